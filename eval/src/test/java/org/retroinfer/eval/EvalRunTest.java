package org.retroinfer.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.retroinfer.eval.tasks.NiahGenerator;
import org.retroinfer.eval.tasks.WordKeys;
import org.retroinfer.kernels.DType;
import org.retroinfer.kvstore.KvCache;
import org.retroinfer.kvstore.retro.RetroConfig;
import org.retroinfer.model.generation.GenerationListener;
import org.retroinfer.model.generation.GenerationRequest;
import org.retroinfer.model.generation.GenerationResult;
import org.retroinfer.model.generation.Generator;
import org.retroinfer.model.generation.SamplingParams;
import org.retroinfer.model.Model;

/** The evaluation end to end on the project's model, with two short needle prompts of the held-out format. */
class EvalRunTest {
    @TempDir
    Path dir;

    static List<Sample> shortSamples(Model model) {
        return List.of(
                NiahGenerator.fitted(EvalTask.NIAH_SINGLE_1, 11, 200, WordKeys.Split.HELDOUT, model.tokenizer()),
                NiahGenerator.fitted(EvalTask.NIAH_MULTIKEY_2, 12, 256, WordKeys.Split.HELDOUT, model.tokenizer()));
    }

    @Test
    void shortNeedlePromptsAreAnsweredExactlyAndReported() throws IOException {
        try (Model model = Model.load(RetroTiny.DIR)) {
            Path file = dir.resolve("short.jsonl.gz");
            HeldOutSet.write(file, shortSamples(model));
            List<Sample> samples = HeldOutSet.read(file).samples();
            List<long[]> progress = new ArrayList<>();
            EvalListener listener = new EvalListener() {
                @Override
                public void prefilled(Sample sample, long done, long total) {
                    progress.add(new long[] {done, total});
                }
            };
            List<SampleResult> results = new EvalRun(model, List.of(new AttentionMode.Full(DType.F16)), 64)
                    .run(samples, listener);
            assertEquals(2, results.size());
            for (int i = 0; i < 2; i++) {
                SampleResult r = results.get(i);
                Sample s = samples.get(i);
                assertEquals(s.task(), r.task());
                assertEquals(s.length(), r.promptTokens());
                assertTrue(r.exact(), r.toString());
                assertEquals(s.answer() + "<|eos|>", r.generated());
                assertEquals(1.0, r.stringMatchAll());
                assertTrue(r.prefillMillis() > 0 && r.decodeMillis() > 0, r.toString());
            }
            assertTrue(progress.stream().anyMatch(p -> p[0] == p[1]), "prefill progress reaches the end");

            EvalReport.RunInfo info = new EvalReport.RunInfo("heldout", RetroTiny.DIR.toString(), file.toString(),
                    "retroinfer eval heldout", "2026-11-27T00:00:00Z", "test cpu", 2, "Species[float, 16, S_512_BIT]",
                    List.of("full"), EvalReport.METHOD);
            EvalReport report = EvalReport.of(info, results, true);
            report.write(dir.resolve("out"));
            JsonNode json = new ObjectMapper().readTree(dir.resolve("out/results.json").toFile());
            assertEquals(2, json.get("results").size());
            assertEquals("niah_single_1", json.get("results").get(0).get("task").asText());
            JsonNode summary = json.get("summary");
            assertEquals(2, summary.size(), "one summary per length (200 and 256)");
            assertEquals(1.0, summary.get(0).get("needleTasksExact").asDouble());
            String md = Files.readString(dir.resolve("out/results.md"));
            assertTrue(md.contains("| 200 | 100.0% (1/1) |"), md);
            assertTrue(md.contains("| niah_single_1 | 1/1 (100%) | - |"), md);
            assertTrue(md.contains("| niah_multikey_2 | - | 1/1 (100%) |"), md);
        }
    }

    @Test
    void samplesMadeWithAnotherTokenizerAreRefusedBeforeAnythingRuns() {
        try (Model model = Model.load(RetroTiny.DIR)) {
            Sample good = shortSamples(model).getFirst();
            Sample wrong = new Sample(good.task(), good.targetLength(), 3, good.seed(), good.size(), good.length() + 1,
                    good.answerLength(), good.prompt(), good.answer(), good.references());
            List<AttentionMode> modes = List.of(new AttentionMode.Full(DType.F16));
            EvalInputException e = assertThrows(EvalInputException.class,
                    () -> new EvalRun(model, modes, 64).run(List.of(good, wrong), new EvalListener() {
                        @Override
                        public void finished(Sample sample, SampleResult result) {
                            throw new AssertionError("a sample ran before the check");
                        }
                    }));
            assertTrue(e.getMessage().startsWith("niah_single_1 200 #3: the prompt is " + good.length() + " tokens"),
                    e.getMessage());
        }
    }

    @Test
    void oneSharedPrefillGivesEachModeTheTokensOfItsOwnSeparateRun() {
        try (Model model = Model.load(RetroTiny.DIR)) {
            // long enough for a wave index of some dozens of clusters, with small budgets so that retro is sparse
            Sample sample = NiahGenerator.fitted(EvalTask.NIAH_MULTIKEY_2, 21, 1536, WordKeys.Split.HELDOUT,
                    model.tokenizer());
            // retro first: its prefill attention then answers for both
            List<AttentionMode> modes = List.of(new AttentionMode.Retro(RetroConfig.defaults().withBudgets(0.02, 0.1)),
                    new AttentionMode.Full(DType.F16));
            EvalRun run = new EvalRun(model, modes, 96);
            int[] prompt = run.tokenize(List.of(sample)).getFirst();
            List<SampleResult> shared = run.run(List.of(sample), EvalListener.NONE);
            assertEquals(2, shared.size());
            Scorer scorer = new Scorer(model.tokenizer(), new HashSet<>(model.generationDefaults().eosTokenIds()));
            for (int m = 0; m < modes.size(); m++) {
                GenerationRequest request = new GenerationRequest(prompt, sample.answerLength() + EvalRun.EXTRA_TOKENS,
                        SamplingParams.greedy(), scorer.stopTokens());
                GenerationResult alone;
                try (KvCache cache = modes.get(m).create(model.config())) {
                    alone = new Generator(model.transformer(), cache, 96).generate(List.of(request),
                            GenerationListener.NONE);
                }
                String expected = model.tokenizer().decode(alone.completions().getFirst().tokens(), false);
                assertEquals(modes.get(m).name(), shared.get(m).attention());
                assertEquals(expected, shared.get(m).generated(), modes.get(m).name());
            }
        }
    }
}
