package org.retroinfer.examples;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.retroinfer.eval.AttentionMode;
import org.retroinfer.kernels.DType;
import org.retroinfer.kvstore.KvCache;
import org.retroinfer.kvstore.baseline.QuestConfig;
import org.retroinfer.kvstore.baseline.StreamingLlmConfig;
import org.retroinfer.kvstore.retro.RetroConfig;
import org.retroinfer.model.config.ModelConfig;

/** The attention options shared by the commands: which KV cache, its budgets, and in what precision. */
final class CacheFlags {
    static final Set<String> NAMES = Set.of("attention", "kv-type", "retrieval-budget", "estimation-budget");
    static final String HELP = """
              --attention MODE   full: exact attention over every position; retro: RetroInfer (a wave
                                 index of the prompt's keys, exact attention to the steady zone and the
                                 top clusters, estimation of the next ones) (default full)
            """ + budgetHelp();
    /** The help of commands that compare modes: --attention takes a list. */
    static final String LIST_HELP = """
              --attention LIST   full (exact attention over every position), retro (RetroInfer: a wave
                                 index of the prompt's keys, exact attention to the steady zone and the
                                 top clusters, estimation of the next ones), or both: full,retro
            """ + budgetHelp();

    /** The help of commands that sweep budgets. */
    static final String SWEEP_HELP = """
              --attention LIST   modes to compare, each once (default full,retro,streaming,quest):
                                 full (exact attention over every position), retro (RetroInfer: a
                                 wave index of the prompt's keys, exact attention to the steady zone
                                 and the top clusters, estimation of the next ones), and two
                                 baselines attending exactly as many positions as retro does:
                                 streaming (StreamingLLM: sinks and the most recent positions) and
                                 quest (Quest: the steady zone and the 16-token pages of largest
                                 key-bound score)
              --budgets LIST     retrieval budgets of the sparse modes, fractions in (0, 1], e.g.
                                 0.009,0.018,0.036: each sparse mode runs at each (default 0.018)
              --estimation-budget E  retro: fraction of clusters estimated, in [0, 1] (default 0.232)
              --cluster-size LIST  retro: average keys per cluster of the wave index (C = L/N
                                 clusters; budgets stay fractions of C), e.g. 16,8: retro runs
                                 at each; the baselines attend as many positions as at 16,
                                 which other sizes leave about the same (default 16)
              --kv-type TYPE     storage of keys and values: f16 or bf16 (default f16)
            """;

    private final AttentionMode mode;

    private CacheFlags(AttentionMode mode) {
        this.mode = mode;
    }

    private static String budgetHelp() {
        return """
                  --retrieval-budget R   retro: fraction of clusters attended exactly, in (0, 1] (default 0.018)
                  --estimation-budget E  retro: fraction of clusters estimated, in [0, 1] (default 0.232)
                  --kv-type TYPE     storage of keys and values: f16 or bf16 (default f16)
                """;
    }

    /** One attention mode (default full). */
    static CacheFlags read(Options o) {
        List<AttentionMode> modes = parse(o, "full", false);
        if (modes.size() > 1) {
            throw o.error("--attention takes one mode here, full or retro, got '" + o.text("attention").orElseThrow()
                    + "'");
        }
        return new CacheFlags(modes.getFirst());
    }

    /** A comma-separated list of attention modes, each at most once ({@code fallback} where the flag is absent). */
    static List<AttentionMode> readModes(Options o, String fallback) {
        return parse(o, fallback, true);
    }

    /**
     * The modes of a comparison: each family of --attention (default full,retro), the sparse ones at
     * every retrieval budget of --budgets.
     */
    static List<AttentionMode> readSweep(Options o, String fallback) {
        if (o.has("retrieval-budget")) {
            throw o.error("--retrieval-budget: give the budgets of a comparison with --budgets LIST");
        }
        String list = o.text("attention").orElse(fallback);
        List<String> families = new ArrayList<>();
        for (String part : list.split(",", -1)) {
            String name = part.trim();
            if (!List.of("full", "retro", "streaming", "quest").contains(name)) {
                throw o.error("--attention takes a list of full, retro, streaming and quest, got '" + list + "'");
            }
            if (families.contains(name)) {
                throw o.error("--attention names " + name + " twice");
            }
            families.add(name);
        }
        List<Double> budgets = new ArrayList<>();
        for (String part : o.text("budgets").orElse(String.valueOf(RetroConfig.defaults().retrievalBudget())).split(",", -1)) {
            double b;
            try {
                b = Double.parseDouble(part.trim());
            } catch (NumberFormatException e) {
                b = Double.NaN;
            }
            if (!(b > 0 && b <= 1)) {
                throw o.error("--budgets must be a comma-separated list of fractions in (0, 1], got '"
                        + o.text("budgets").orElseThrow() + "'");
            }
            if (!budgets.contains(b)) {
                budgets.add(b);
            }
        }
        DType kvType = kvType(o);
        RetroConfig defaults = RetroConfig.defaults().withStorage(kvType);
        double estimation = o.number("estimation-budget", defaults.estimationBudget(), 0, true, 1, true);
        List<Integer> clusterSizes = clusterSizes(o, defaults);
        List<AttentionMode> modes = new ArrayList<>();
        for (String family : families) {
            if (family.equals("full")) {
                modes.add(new AttentionMode.Full(kvType));
                continue;
            }
            for (double b : budgets) {
                RetroConfig matched = defaults.withBudgets(b, estimation);
                if (family.equals("retro")) {
                    for (int size : clusterSizes) {
                        modes.add(new AttentionMode.Retro(matched.withClusterSize(size)));
                    }
                    continue;
                }
                modes.add(switch (family) {
                    case "streaming" -> new AttentionMode.StreamingLlm(new StreamingLlmConfig(matched));
                    default -> new AttentionMode.Quest(new QuestConfig(matched, QuestConfig.defaults().pageTokens()));
                });
            }
        }
        return modes;
    }

    /**
     * The cluster sizes of --cluster-size (retro runs at each). The baselines match the default
     * size's budget in positions, which another size leaves about the same (nprobe = round(C·r)).
     */
    private static List<Integer> clusterSizes(Options o, RetroConfig defaults) {
        List<Integer> sizes = new ArrayList<>();
        String list = o.text("cluster-size").orElse(String.valueOf(defaults.clusterSize()));
        for (String part : list.split(",", -1)) {
            int size = part.trim().matches("\\d{1,5}") ? Integer.parseInt(part.trim()) : 0;
            if (size < 1 || size > defaults.segmentTokens()) {
                throw o.error("--cluster-size must be a comma-separated list of whole numbers in [1, "
                        + defaults.segmentTokens() + "], got '" + list + "'");
            }
            if (!sizes.contains(size)) {
                sizes.add(size);
            }
        }
        return sizes;
    }

    private static DType kvType(Options o) {
        String type = o.text("kv-type").orElse("f16");
        return switch (type) {
            case "f16" -> DType.F16;
            case "bf16" -> DType.BF16;
            default -> throw o.error("--kv-type must be f16 or bf16, got '" + type + "'");
        };
    }

    private static List<AttentionMode> parse(Options o, String fallback, boolean several) {
        String list = o.text("attention").orElse(fallback);
        List<String> names = new ArrayList<>();
        for (String part : list.split(",", -1)) {
            String name = part.trim();
            if (!name.equals("full") && !name.equals("retro")) {
                throw o.error("--attention must be full or retro" + (several ? ", or both: full,retro" : "")
                        + ", got '" + list + "'");
            }
            if (names.contains(name)) {
                throw o.error("--attention names " + name + " twice");
            }
            names.add(name);
        }
        DType kvType = kvType(o);
        if (!names.contains("retro")) {
            for (String retroOnly : new String[] {"retrieval-budget", "estimation-budget"}) {
                if (o.has(retroOnly)) {
                    throw o.error("--" + retroOnly + " applies only to --attention retro");
                }
            }
        }
        List<AttentionMode> modes = new ArrayList<>();
        for (String name : names) {
            if (name.equals("full")) {
                modes.add(new AttentionMode.Full(kvType));
            } else {
                RetroConfig defaults = RetroConfig.defaults();
                double retrieval = o.number("retrieval-budget", defaults.retrievalBudget(), 0, false, 1, true);
                double estimation = o.number("estimation-budget", defaults.estimationBudget(), 0, true, 1, true);
                modes.add(new AttentionMode.Retro(defaults.withBudgets(retrieval, estimation).withStorage(kvType)));
            }
        }
        return modes;
    }

    /** A mode with its settings, for reports: {@code retro (retrieval 0.018, estimation 0.232, KV F16)}. */
    static String describe(AttentionMode mode) {
        return switch (mode) {
            case AttentionMode.Full f -> "full (KV " + f.kvType() + ")";
            case AttentionMode.Retro r -> "retro (retrieval " + r.config().retrievalBudget() + ", estimation "
                    + r.config().estimationBudget() + ", KV " + r.kvType() + ")";
            case AttentionMode.StreamingLlm s -> s.name() + " (StreamingLLM: " + s.config().matched().sinks()
                    + " sinks + recent positions, as many as retro attends exactly at retrieval "
                    + s.config().matched().retrievalBudget() + ", KV " + s.kvType() + ")";
            case AttentionMode.Quest q -> q.name() + " (Quest: steady zone + top " + q.config().pageTokens()
                    + "-token pages by key bounds, as many positions as retro attends exactly at retrieval "
                    + q.config().matched().retrievalBudget() + ", KV " + q.kvType() + ")";
        };
    }

    AttentionMode mode() {
        return mode;
    }

    String attention() {
        return mode.family();
    }

    DType kvType() {
        return mode.kvType();
    }

    /** RetroInfer's configuration, or null for full attention. */
    RetroConfig retro() {
        return mode instanceof AttentionMode.Retro r ? r.config() : null;
    }

    KvCache create(ModelConfig config) {
        return mode.create(config);
    }
}
