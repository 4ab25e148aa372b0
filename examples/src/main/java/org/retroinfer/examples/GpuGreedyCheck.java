package org.retroinfer.examples;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import org.retroinfer.accel.cuda.Gpu;
import org.retroinfer.accel.device.CudaDevice;
import org.retroinfer.eval.EvalTask;
import org.retroinfer.eval.tasks.NiahGenerator;
import org.retroinfer.eval.tasks.WordKeys;
import org.retroinfer.kernels.DType;
import org.retroinfer.kvstore.DenseKvCache;
import org.retroinfer.kvstore.KvCache;
import org.retroinfer.kvstore.gpu.GpuRetroKvCache;
import org.retroinfer.kvstore.retro.RetroConfig;
import org.retroinfer.kvstore.retro.RetroKvCache;
import org.retroinfer.kvstore.wave.StoreFormat;
import org.retroinfer.model.Model;
import org.retroinfer.model.generation.GenerationListener;
import org.retroinfer.model.generation.GenerationRequest;
import org.retroinfer.model.generation.GenerationResult;
import org.retroinfer.model.generation.Generator;
import org.retroinfer.model.generation.SamplingParams;
import org.retroinfer.model.gpu.GpuSession;

/**
 * Greedy decoding on the GPU gives the CPU path's tokens: for needle prompts of several lengths (the demo's task, held-out
 * keys), both paths decode the same number of tokens with the same attention (full, or RetroInfer at its default
 * budgets) and the same KV storage, and the token sequences must be equal. Prints each prompt's result and both paths'
 * decode speed; exits 1 on a difference.
 *
 * <p>{@code java org.retroinfer.examples.GpuGreedyCheck MODEL [LENGTHS=1024,4096,16384] [TOKENS=48] [KV=bf16]
 * [ATTENTION=full|retro] [LOOKUPS=host|gpu|gpu-stores] [GPU_STORE_LAYERS=all]}: with fewer GPU store layers than the
 * model's, the others' stores are in host memory
 */
public final class GpuGreedyCheck {
    private GpuGreedyCheck() {}

    public static void main(String[] args) {
        Path modelPath = Path.of(args[0]);
        int[] lengths = Arrays.stream((args.length > 1 ? args[1] : "1024,4096,16384").split(",")).mapToInt(Integer::parseInt).toArray();
        int tokens = args.length > 2 ? Integer.parseInt(args[2]) : 48;
        DType kv = args.length > 3 && args[3].equals("f16") ? DType.F16 : DType.BF16;
        RetroConfig retro = args.length > 4 && args[4].equals("retro") ? RetroConfig.defaults().withStorage(kv) : null;
        GpuRetroKvCache.Lookups named = args.length > 5 ? GpuRetroKvCache.Lookups.named(args[5]) : null;
        GpuRetroKvCache.Lookups lookups = named != null ? named : GpuRetroKvCache.Lookups.HOST;
        int storeLayers = args.length > 6 && !args[6].equals("all") ? Integer.parseInt(args[6]) : Integer.MAX_VALUE;
        int chunk = Generator.DEFAULT_PREFILL_CHUNK;
        boolean ok = true;
        try (Model model = Model.load(modelPath);
             GpuSession gpu = GpuSession.open(model, new CudaDevice(Gpu.open()), chunk)) {
            System.out.println("model " + modelPath + " on " + gpu.device().describe() + ", KV " + kv + ", attention "
                    + (retro == null ? "full" : "retro, lookups on the " + lookups.describe() + ", at most " + Math.min(storeLayers,
                    model.config().layers()) + " layers' stores on the GPU")
                    + ", " + tokens + " greedy tokens per prompt");
            for (int length : lengths) {
                for (long seed = 1; seed <= 2; seed++) {
                    var sample = NiahGenerator.fitted(EvalTask.NIAH_SINGLE_1, seed, length, WordKeys.Split.HELDOUT, model.tokenizer());
                    int[] prompt = model.tokenizer().encode(sample.prompt(), true);
                    GenerationRequest request = new GenerationRequest(prompt, tokens, SamplingParams.greedy(), Set.of());
                    GenerationResult cpu;
                    try (KvCache cache = retro == null ? new DenseKvCache(model.config().attentionShape(),
                            new DenseKvCache.Config(kv, 256)) : new RetroKvCache(model.config().attentionShape(), retro)) {
                        cpu = new Generator(model.transformer(), cache, chunk).generate(List.of(request), GenerationListener.NONE);
                    }
                    GenerationResult onGpu;
                    long capacity = (long) prompt.length + tokens;
                    String hits = "";
                    try (KvCache cache = retro == null ? gpu.cache(kv, 1, capacity) : gpu.retroCache(retro, 1, capacity,
                            StoreFormat.HALF, Math.min(storeLayers, model.config().layers()), lookups)) {
                        onGpu = new Generator(gpu.transformer(), cache, chunk).generate(List.of(request), GenerationListener.NONE);
                        if (cache instanceof GpuRetroKvCache r) {
                            hits = String.format(java.util.Locale.ROOT, "; GPU block cache hit ratio %.3f", r.hitRatio());
                        }
                    }
                    System.out.println("  (step shapes replayed as CUDA graphs: " + gpu.transformer().capturedSteps() + ")");
                    int[] a = cpu.completions().getFirst().tokens(), b = onGpu.completions().getFirst().tokens();
                    int differ = Arrays.mismatch(a, b);
                    boolean same = differ < 0;
                    ok &= same;
                    System.out.printf("check %d-token prompt (seed %d, expected \"%s\"): %s; cpu decode %.1f tok/s, gpu decode %.1f"
                                    + " tok/s, gpu prefill %.0f tok/s%s; gpu text \"%s\"%n", prompt.length, seed, sample.answer().strip(),
                            same ? "tokens equal OK" : "FAILED at token " + differ + " (cpu " + a[differ] + ", gpu " + b[differ] + ")",
                            cpu.stats().decodeTokensPerSecond(), onGpu.stats().decodeTokensPerSecond(),
                            onGpu.stats().prefillTokensPerSecond(), hits, model.tokenizer().decode(b, true).replace("\n", "\\n"));
                }
            }
        }
        System.out.println(ok ? "ALL OK" : "FAILED");
        // the GPU steps above ran with CUDA graphs (the default) wherever a step shape repeated
        System.exit(ok ? 0 : 1);
    }
}
