package org.retroinfer.examples;

import java.io.PrintStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.retroinfer.eval.EvalTask;
import org.retroinfer.eval.Sample;
import org.retroinfer.kernels.AttentionKernels;
import org.retroinfer.kernels.Dequantize;
import org.retroinfer.kvstore.AttentionShape;
import org.retroinfer.kvstore.BatchLayout;
import org.retroinfer.kvstore.ForwardingKvCache;
import org.retroinfer.kvstore.retro.ClusterTrace;
import org.retroinfer.kvstore.retro.RetroConfig;
import org.retroinfer.kvstore.retro.RetroKvCache;
import org.retroinfer.model.Model;
import org.retroinfer.model.config.ModelConfig;
import org.retroinfer.model.generation.GenerationListener;
import org.retroinfer.model.generation.Generator;

/**
 * An example diagnostic, the next step after {@link CopyStepRecall}: for every answer token (fed by
 * teacher forcing after an exact prefill) and every query head, it finds the position the head
 * attends to most under exact attention and asks RetroInfer where that position's key sits
 * ({@link ClusterTrace}): in the steady zone, or in which cluster, of what size, at what rank by
 * the group's score against the retrieval cut-off, how close the key is to its centroid, and how
 * much the centroid's logit loses against the key's own. It prints a summary per (layer, query
 * head) and a table per step for the heads that miss their top position most.
 *
 * <pre>java ... org.retroinfer.examples.CopyClusterTrace MODEL TASK LENGTH INDEX [RETRIEVAL [ESTIMATION [CLUSTER_SIZE]]]</pre>
 */
public final class CopyClusterTrace {
    private CopyClusterTrace() {}

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    /** One (answer step, layer, query head): the exact top position and where RetroInfer kept it. */
    record Step(int step, int layer, int head, long position, double probability, ClusterTrace.Located at,
                int[] members) {}

    static int run(String[] args, PrintStream out, PrintStream err) {
        EvalTask task = args.length >= 4 ? EvalTask.byId(args[1]).orElse(null) : null;
        boolean numbers = args.length >= 4 && args.length <= 7 && args[2].matches("\\d+") && args[3].matches("\\d+")
                && (args.length < 5 || args[4].matches("0?\\.\\d+")) && (args.length < 6 || args[5].matches("0?\\.\\d+|0"))
                && (args.length < 7 || args[6].matches("\\d+"));
        if (task == null || !numbers || !Files.isDirectory(Path.of(args[0]))) {
            err.println("usage: CopyClusterTrace MODEL TASK LENGTH INDEX [RETRIEVAL [ESTIMATION [CLUSTER_SIZE]]]: MODEL a "
                    + "model directory, TASK one of " + EvalTask.ids() + ", LENGTH and INDEX whole numbers, budgets "
                    + "fractions; got " + String.join(" ", args));
            return 2;
        }
        Path dir = Path.of(args[0]);
        RetroConfig config = RetroConfig.defaults();
        if (args.length >= 5) {
            config = config.withBudgets(Double.parseDouble(args[4]),
                    args.length >= 6 ? Double.parseDouble(args[5]) : config.estimationBudget());
        }
        if (args.length >= 7) {
            config = new RetroConfig(config.retrievalBudget(), config.estimationBudget(), config.sinks(), config.window(),
                    Integer.parseInt(args[6]), config.segmentTokens(), config.updateSegment(), config.iterations(),
                    config.threads(), config.storage(), config.pageTokens());
        }
        try (Model model = Model.load(dir)) {
            CopySample copy = CopySample.load(dir, model, task, Integer.parseInt(args[2]), Integer.parseInt(args[3]));
            Sample s = copy.sample();
            int[] prompt = copy.prompt(), answer = copy.answer();
            ModelConfig c = model.config();
            AttentionShape shape = c.attentionShape();
            int[] all = new int[prompt.length + answer.length];
            System.arraycopy(prompt, 0, all, 0, prompt.length);
            System.arraycopy(answer, 0, all, prompt.length, answer.length);
            out.printf("%s: %d prompt tokens, answer '%s' (%d tokens), first copy of the answer's second token in the "
                            + "prompt at %d; retrieval %.3f, estimation %.3f, cluster size %d%n", s.label(), prompt.length,
                    s.answer().strip(), answer.length, find(prompt, answer), config.retrievalBudget(),
                    config.estimationBudget(), config.clusterSize());
            try (Tracer tracer = new Tracer(new RetroKvCache(shape, config))) {
                int sequence = tracer.openSequence();
                new Generator(model.transformer(), tracer, 512).prefill(0, sequence, prompt, GenerationListener.NONE);
                for (int step = 0; step < answer.length; step++) {
                    tracer.step = step;
                    float[] logits = new float[c.vocabSize()];
                    model.transformer().forward(BatchLayout.single(sequence, 1), new int[] {answer[step]},
                            new long[] {prompt.length + step}, tracer, new int[] {0}, logits);
                }
                out.print(report(tracer.steps, shape, model, all, answer, prompt.length));
            }
        }
        return 0;
    }

    /** Where answer[1 ..] first appears in the prompt (the value being copied), or −1. */
    private static int find(int[] prompt, int[] answer) {
        int n = Math.min(4, answer.length - 1);
        for (int p = 0; p + n <= prompt.length; p++) {
            boolean match = n > 0;
            for (int i = 0; i < n && match; i++) {
                match = prompt[p + i] == answer[1 + i];
            }
            if (match) {
                return p;
            }
        }
        return -1;
    }

    private static String report(List<Step> steps, AttentionShape shape, Model model, int[] tokens, int[] answer,
                                 int promptLength) {
        StringBuilder b = new StringBuilder("\nPer (layer, query head): answer steps whose top position is attended "
                + "exactly (steady zone or retrieved) or not, and for the misses the median rank of the top position's "
                + "cluster by group score and by the head's own centroid logit\n");
        b.append("| layer | head | steady | retrieved | estimated | dropped | median group rank of misses | median head rank "
                + "of misses |\n| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
        List<int[]> worst = new ArrayList<>();
        for (int l = 0; l < shape.layers(); l++) {
            for (int h = 0; h < shape.queryHeads(); h++) {
                int[] counts = new int[5];
                List<Integer> ranks = new ArrayList<>();
                List<Integer> headRanks = new ArrayList<>();
                for (Step st : steps) {
                    if (st.layer == l && st.head == h) {
                        counts[st.at.zone().ordinal()]++;
                        if (st.at.zone() == ClusterTrace.Zone.ESTIMATED || st.at.zone() == ClusterTrace.Zone.DROPPED) {
                            ranks.add(st.at.rank());
                            headRanks.add(st.at.headRank());
                        }
                    }
                }
                b.append(String.format("| %d | %d | %d | %d | %d | %d | %s | %s |%n", l, h, counts[0], counts[1],
                        counts[2], counts[3], median(ranks), median(headRanks)));
                if (counts[2] + counts[3] >= Math.max(1, answer.length / 10)) {
                    worst.add(new int[] {l, h});
                }
            }
        }
        for (int[] lh : worst) {
            b.append(String.format("%nLayer %d, query head %d (KV head %d), step by step. pos: the exact top position "
                    + "(prompt has %d), p: its exact softmax share; rank / head rank: of its cluster by group score / by "
                    + "this head's centroid logit (retrieved: rank < budget); score vs bar: the cluster's group score "
                    + "against the last retrieved one's; cos / ccos: key-centroid cosine as stored / centred; logits "
                    + "(÷√d): the key's, its centroid's, the best centroid's, the cluster's best member's; members: the cluster's "
                    + "positions, those within 16 of pos / all, and their range%n", lh[0], lh[1],
                    lh[1] / shape.groupSize(), promptLength));
            b.append("| step | input | pos | token at pos | p | zone | rank | head rank | size | score vs bar | cos | ccos "
                    + "| key | centroid | best centroid | best member | members near / all | member range |\n");
            b.append("| ---: | --- | ---: | --- | ---: | --- | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: "
                    + "| ---: | ---: | --- |\n");
            for (Step st : steps) {
                if (st.layer != lh[0] || st.head != lh[1]) {
                    continue;
                }
                ClusterTrace.Located a = st.at;
                b.append(String.format("| %d | `%s` | %d | `%s` | %.2f | %s | %s | %s | %s | %s | %s | %s | %.2f | %s | %s | %s | %s | %s |%n",
                        st.step, text(model, answer[st.step]), st.position, text(model, tokens[(int) st.position]),
                        st.probability, a.zone().name().toLowerCase(), a.cluster() < 0 ? "–" : a.rank() + "/" + a.retrieval(),
                        a.cluster() < 0 ? "–" : String.valueOf(a.headRank()), a.cluster() < 0 ? "–" : String.valueOf(a.size()),
                        a.cluster() < 0 ? "–" : String.format("%.3f vs %.3f", a.score(), a.lastRetrieved()),
                        f(a.cosine()), f(a.centredCosine()), a.keyLogit(), f(a.centroidLogit()), f(a.bestCentroidLogit()),
                        f(a.maxMemberLogit()), near(st), range(st)));
            }
        }
        return b.toString();
    }

    private static String near(Step st) {
        if (st.members.length == 0) {
            return "–";
        }
        int near = 0;
        for (int p : st.members) {
            near += Math.abs(p - st.position) <= 16 ? 1 : 0;
        }
        return near + "/" + st.members.length;
    }

    private static String range(Step st) {
        if (st.members.length == 0) {
            return "–";
        }
        int lo = Integer.MAX_VALUE, hi = Integer.MIN_VALUE;
        for (int p : st.members) {
            lo = Math.min(lo, p);
            hi = Math.max(hi, p);
        }
        return lo + "–" + hi;
    }

    private static String text(Model model, int token) {
        return model.tokenizer().decode(new int[] {token}, false).replace("\n", "\\n").replace("|", "\\|").replace("`", "'");
    }

    private static String f(double x) {
        return Double.isNaN(x) ? "–" : String.format("%.2f", x);
    }

    private static String median(List<Integer> xs) {
        if (xs.isEmpty()) {
            return "–";
        }
        List<Integer> sorted = new ArrayList<>(xs);
        sorted.sort(null);
        return String.valueOf(sorted.get(sorted.size() / 2));
    }

    /**
     * A KV cache that answers every query exactly through the RetroInfer cache it wraps (so the model
     * runs as with full attention), keeps every key as stored, in position order, and at each
     * decode step traces each query head's exact top position through {@link ClusterTrace}.
     */
    private static final class Tracer extends ForwardingKvCache {
        private final RetroKvCache cache;
        private final AttentionShape shape;
        private final List<List<float[]>> keys = new ArrayList<>();
        private final Arena arena = Arena.ofConfined();
        private final MemorySegment rounding;
        final List<Step> steps = new ArrayList<>();
        int step;

        Tracer(RetroKvCache cache) {
            super(cache);
            this.cache = cache;
            this.shape = cache.shape();
            for (int l = 0; l < shape.layers(); l++) {
                keys.add(new ArrayList<>());
            }
            this.rounding = arena.allocate(2L * shape.headDim());
        }

        @Override
        public void append(int layer, BatchLayout batch, float[] k, float[] v) {
            int d = shape.headDim();
            for (int r = 0; r < batch.rows(); r++) {
                float[] row = new float[shape.kvWidth()];
                for (int h = 0; h < shape.kvHeads(); h++) {
                    int off = r * shape.kvWidth() + h * d;
                    AttentionKernels.store(k, off, d, rounding, 0, cache.config().storage());
                    Dequantize.row(cache.config().storage(), rounding, 0, d, row, h * d);
                }
                keys.get(layer).add(row);
            }
            cache.append(layer, batch, k, v);
        }

        @Override
        public void attend(int layer, BatchLayout batch, float[] queries, float[] out) {
            int sequence = batch.sequence(0);
            if (batch.size() == 1 && batch.count(0) == 1 && cache.isSparse(sequence)) {
                trace(sequence, layer, queries);
            }
            cache.attendExactly(layer, batch, queries, out);
        }

        private void trace(int sequence, int layer, float[] queries) {
            int d = shape.headDim();
            List<float[]> stored = keys.get(layer);
            double[] logits = new double[stored.size()];
            for (int head = 0; head < shape.queryHeads(); head++) {
                int kvHead = head / shape.groupSize();
                int top = 0;
                for (int t = 0; t < stored.size(); t++) {
                    double dot = 0;
                    for (int i = 0; i < d; i++) {
                        dot += (double) queries[head * d + i] * stored.get(t)[kvHead * d + i];
                    }
                    logits[t] = dot * shape.scale();
                    top = logits[t] > logits[top] ? t : top;
                }
                double sum = 0;
                for (double x : logits) {
                    sum += Math.exp(x - logits[top]);
                }
                float[] key = new float[d];
                System.arraycopy(stored.get(top), kvHead * d, key, 0, d);
                ClusterTrace.Located at = ClusterTrace.locate(cache, sequence, layer, kvHead, queries,
                        kvHead * shape.groupSize() * d, head % shape.groupSize(), key);
                steps.add(new Step(step, layer, head, top, 1 / sum, at, at.cluster() < 0 ? new int[0]
                        : positions(layer, kvHead, ClusterTrace.memberKeys(cache, sequence, layer, kvHead, at.cluster()))));
            }
        }

        /** The positions of the given keys (each headDim floats, as stored) of {@code kvHead}, in key order. */
        private int[] positions(int layer, int kvHead, float[] members) {
            int d = shape.headDim();
            List<float[]> stored = keys.get(layer);
            int[] out = new int[members.length / d];
            for (int j = 0; j < out.length; j++) {
                out[j] = -1;
                for (int t = 0; t < stored.size() && out[j] < 0; t++) {
                    if (java.util.Arrays.equals(stored.get(t), kvHead * d, kvHead * d + d, members, j * d, j * d + d)) {
                        out[j] = t;
                    }
                }
            }
            return out;
        }

        @Override
        public void close() {
            super.close();
            arena.close();
        }
    }
}
