package org.retroinfer.eval;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.TreeSet;
import org.retroinfer.kvstore.FidelityProbe;

/**
 * The report of {@code eval fidelity}: per sparse mode, length and layer, the averages over every
 * measured (query head, decode step) of all samples: relative output error, attention mass on the
 * exactly attended positions (and, for RetroInfer, those plus the estimated ones), recall of the
 * top-100 positions and of the top one. Written as {@code results.json} and {@code results.md}.
 */
public record FidelityReport(EvalReport.RunInfo run, List<Row> rows) {
    /** One layer (−1: the mean over layers) of one mode at one length. */
    public record Row(String attention, int length, int layer, long samples, double relativeError,
                      double maxRelativeError, double exactMass, double exactAndEstimatedMass, double recallAt100,
                      double recallAt1) {}

    public FidelityReport {
        rows = List.copyOf(rows);
    }

    public static FidelityReport of(EvalReport.RunInfo run, List<String> modes, List<FidelityRun.SampleFidelity> all) {
        TreeSet<Integer> lengths = new TreeSet<>();
        all.forEach(f -> lengths.add(f.sample().targetLength()));
        List<Row> rows = new ArrayList<>();
        for (String mode : modes) {
            for (int length : lengths) {
                List<FidelityRun.SampleFidelity> cell = all.stream()
                        .filter(f -> f.attention().equals(mode) && f.sample().targetLength() == length).toList();
                if (cell.isEmpty()) {
                    continue;
                }
                int layers = cell.getFirst().layers().size();
                List<Row> perLayer = new ArrayList<>();
                for (int l = 0; l < layers; l++) {
                    int layer = l;
                    perLayer.add(weighted(mode, length, layer,
                            cell.stream().map(f -> f.layers().get(layer)).toList()));
                }
                rows.addAll(perLayer);
                rows.add(mean(mode, length, perLayer));
            }
        }
        return new FidelityReport(run, rows);
    }

    /** Layer averages over samples, each weighted by its count of measurements. */
    private static Row weighted(String mode, int length, int layer, List<FidelityProbe.LayerFidelity> parts) {
        long n = parts.stream().mapToLong(FidelityProbe.LayerFidelity::samples).sum();
        double w = Math.max(1, n);
        return new Row(mode, length, layer, n,
                parts.stream().mapToDouble(p -> p.relativeError() * p.samples()).sum() / w,
                parts.stream().mapToDouble(FidelityProbe.LayerFidelity::maxRelativeError).max().orElse(0),
                parts.stream().mapToDouble(p -> p.exactMass() * p.samples()).sum() / w,
                parts.stream().mapToDouble(p -> p.exactAndEstimatedMass() * p.samples()).sum() / w,
                parts.stream().mapToDouble(p -> p.recallAt100() * p.samples()).sum() / w,
                parts.stream().mapToDouble(p -> p.recallAt1() * p.samples()).sum() / w);
    }

    private static Row mean(String mode, int length, List<Row> layers) {
        return new Row(mode, length, -1, layers.stream().mapToLong(Row::samples).sum(),
                layers.stream().mapToDouble(Row::relativeError).average().orElse(0),
                layers.stream().mapToDouble(Row::maxRelativeError).max().orElse(0),
                layers.stream().mapToDouble(Row::exactMass).average().orElse(0),
                layers.stream().mapToDouble(Row::exactAndEstimatedMass).average().orElse(0),
                layers.stream().mapToDouble(Row::recallAt100).average().orElse(0),
                layers.stream().mapToDouble(Row::recallAt1).average().orElse(0));
    }

    /** Writes {@code results.json} and {@code results.md} into {@code dir}, as the other reports do. */
    public void write(Path dir) throws IOException {
        EvalReport.writeFiles(dir, this, markdown());
    }

    public String markdown() {
        StringBuilder b = new StringBuilder();
        b.append("# Attention fidelity: ").append(run.model()).append("\n\n");
        b.append(run.table(true, run.modes()));
        b.append(tables());
        return b.toString();
    }

    /** The mean over layers per mode and length, then each length's per-layer table. */
    public String tables() {
        StringBuilder b = new StringBuilder();
        b.append("## Mean over layers\n\n| length | attention | relative error | mass exact | mass exact + estimated "
                + "| recall@100 | recall@1 | measurements |\n| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |\n");
        for (Row r : rows) {
            if (r.layer() < 0) {
                b.append(String.format(Locale.ROOT, "| %d | %s | %.4f | %.4f | %.4f | %.4f | %.4f | %d |%n", r.length(),
                        r.attention(), r.relativeError(), r.exactMass(), r.exactAndEstimatedMass(), r.recallAt100(),
                        r.recallAt1(), r.samples()));
            }
        }
        TreeSet<Integer> lengths = new TreeSet<>();
        rows.forEach(r -> lengths.add(r.length()));
        for (int length : lengths) {
            b.append("\n## ").append(length).append(" tokens, per layer\n\n| attention | layer | relative error "
                    + "(max) | mass exact | mass exact + estimated | recall@100 | recall@1 |\n"
                    + "| --- | ---: | ---: | ---: | ---: | ---: | ---: |\n");
            for (Row r : rows) {
                if (r.length() == length && r.layer() >= 0) {
                    b.append(String.format(Locale.ROOT, "| %s | %d | %.4f (%.3f) | %.4f | %.4f | %.4f | %.4f |%n",
                            r.attention(), r.layer(), r.relativeError(), r.maxRelativeError(), r.exactMass(),
                            r.exactAndEstimatedMass(), r.recallAt100(), r.recallAt1()));
                }
            }
        }
        return b.toString();
    }
}
