package org.retroinfer.eval;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import javax.imageio.ImageIO;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.HeatMapChart;
import org.knowm.xchart.HeatMapChartBuilder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.style.markers.SeriesMarkers;

/**
 * The PNG plots of a {@link ComparisonReport}, drawn with XChart: the NIAH heatmap (needle depth ×
 * context length, one panel per attention mode) and the mean score against the retrieval budget
 * (one line per sparse family, full attention as a level line). Charts are drawn headless.
 */
public final class EvalPlots {
    private static final int PANEL_WIDTH = 420;
    private static final int PANEL_HEIGHT = 380;

    private EvalPlots() {}

    /** Writes every plot the report has data for into {@code dir} and returns the files written. */
    public static List<Path> write(ComparisonReport report, Path dir) throws IOException {
        System.setProperty("java.awt.headless", "true");
        List<Path> written = new ArrayList<>();
        if (report.cells().stream().anyMatch(c -> c.depth() != null)) {
            written.add(writeImage(heatmaps(report), dir.resolve("niah-heatmap.png")));
        }
        if (hasBudgetSweep(report)) {
            written.add(writeImage(BitmapEncoder.getBufferedImage(budgetChart(report)), dir.resolve("budget.png")));
        }
        return written;
    }

    /** Whether some sparse family ran at two or more retrieval budgets. */
    static boolean hasBudgetSweep(ComparisonReport report) {
        return budgets(report).values().stream().anyMatch(m -> m.size() >= 2);
    }

    /**
     * Sparse series ({@link AttentionMode#series}: a family's modes of one cluster size and estimation budget; one line a
     * family mixed the cluster sizes of a sweep) → (retrieval budget → mean score over every length).
     */
    private static Map<String, TreeMap<Double, Double>> budgets(ComparisonReport report) {
        Map<String, TreeMap<Double, Double>> bySeries = new LinkedHashMap<>();
        for (ComparisonReport.ModeInfo m : report.modes()) {
            ComparisonReport.ModeScore s = report.find(m.name(), 0);
            if (m.retrievalBudget() != null && s != null && !Double.isNaN(s.score())) {
                bySeries.computeIfAbsent(AttentionMode.series(m.family(), m.name()), f -> new TreeMap<>()).put(m.retrievalBudget(), s.score());
            }
        }
        return bySeries;
    }

    private static XYChart budgetChart(ComparisonReport report) {
        XYChart chart = new XYChartBuilder().width(640).height(440)
                .title("Mean score against retrieval budget (" + report.run().model() + ")")
                .xAxisTitle("retrieval budget, % of the context").yAxisTitle("mean score (string-match-all x 100)")
                .build();
        var styler = chart.getStyler();
        styler.setChartBackgroundColor(Color.WHITE);
        styler.setYAxisMin(0.0);
        styler.setYAxisMax(100.0);
        styler.setLegendPosition(org.knowm.xchart.style.Styler.LegendPosition.InsideSE);
        double lo = Double.MAX_VALUE;
        double hi = 0;
        for (Map.Entry<String, TreeMap<Double, Double>> e : budgets(report).entrySet()) {
            double[] x = e.getValue().keySet().stream().mapToDouble(b -> 100 * b).toArray();
            double[] y = e.getValue().values().stream().mapToDouble(Double::doubleValue).toArray();
            chart.addSeries(e.getKey(), x, y).setMarker(SeriesMarkers.CIRCLE);
            lo = Math.min(lo, x[0]);
            hi = Math.max(hi, x[x.length - 1]);
        }
        ComparisonReport.ModeScore full = report.find("full", 0);
        if (full != null && !Double.isNaN(full.score())) {
            chart.addSeries("full", new double[] {lo, hi}, new double[] {full.score(), full.score()})
                    .setMarker(SeriesMarkers.NONE).setLineColor(Color.BLACK);
        }
        return chart;
    }

    /** One heatmap panel per mode, side by side in one image. */
    private static BufferedImage heatmaps(ComparisonReport report) {
        List<BufferedImage> panels = new ArrayList<>();
        for (ComparisonReport.ModeInfo m : report.modes()) {
            panels.add(BitmapEncoder.getBufferedImage(heatmap(report, m.name())));
        }
        BufferedImage image = new BufferedImage(PANEL_WIDTH * panels.size(), PANEL_HEIGHT, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = image.createGraphics();
        for (int i = 0; i < panels.size(); i++) {
            g.drawImage(panels.get(i), i * PANEL_WIDTH, 0, null);
        }
        g.dispose();
        return image;
    }

    private static HeatMapChart heatmap(ComparisonReport report, String mode) {
        TreeSet<Integer> lengths = new TreeSet<>();
        TreeSet<Integer> depths = new TreeSet<>();
        for (ComparisonReport.Cell c : report.cells()) {
            if (c.depth() != null) {
                lengths.add(c.length());
                depths.add(c.depth());
            }
        }
        List<Integer> xs = List.copyOf(lengths);
        List<Integer> ys = List.copyOf(depths);
        List<Number[]> heat = new ArrayList<>();
        for (ComparisonReport.Cell c : report.cells()) {
            if (c.depth() != null && c.attention().equals(mode)) {
                heat.add(new Number[] {xs.indexOf(c.length()), ys.indexOf(c.depth()), Math.round(c.score())});
            }
        }
        HeatMapChart chart = new HeatMapChartBuilder().width(PANEL_WIDTH).height(PANEL_HEIGHT).title(mode)
                .xAxisTitle("context length (tokens)").yAxisTitle("needle depth (%)").build();
        var styler = chart.getStyler();
        styler.setChartBackgroundColor(Color.WHITE);
        styler.setShowValue(true);
        styler.setMin(0);
        styler.setMax(100);
        styler.setRangeColors(new Color[] {new Color(0xD7301F), new Color(0xFEE08B), new Color(0x1A9850)});
        styler.setLegendVisible(false);
        chart.addSeries(mode, xs.stream().map(l -> l >= 1024 ? l / 1024 + "K" : String.valueOf(l)).toList(), ys, heat);
        return chart;
    }

    private static Path writeImage(BufferedImage image, Path file) throws IOException {
        Files.createDirectories(file.getParent());
        Path partial = file.resolveSibling(file.getFileName() + ".partial");
        if (!ImageIO.write(image, "png", partial.toFile())) {
            throw new IOException("no PNG writer in this Java runtime");
        }
        Files.move(partial, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        return file;
    }
}
