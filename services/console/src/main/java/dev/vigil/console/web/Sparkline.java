package dev.vigil.console.web;

import java.util.List;
import java.util.Locale;

/** A bucket's daily reports as a small inline SVG line, drawn on the server so a long list costs no script. */
public record Sparkline(String svg, long total, boolean fresh) {

    static final int WIDTH = 120;
    static final int HEIGHT = 24;

    /**
     * The line of {@code counts} (one per day, oldest first). {@code recentDays} is the period the page shows: the
     * bucket is {@code fresh} (marked new) when it has reports in it and none in the days before.
     */
    public static Sparkline of(List<Long> counts, int recentDays) {
        if (counts == null || counts.isEmpty()) {
            return new Sparkline("", 0, false);
        }
        long max = Math.max(1, counts.stream().mapToLong(Long::longValue).max().orElse(1));
        int n = counts.size();
        StringBuilder points = new StringBuilder();
        for (int i = 0; i < n; i++) {
            double x = n == 1 ? WIDTH / 2.0 : i * (WIDTH - 2.0) / (n - 1) + 1;
            double y = HEIGHT - 2 - counts.get(i) * (HEIGHT - 4.0) / max;
            points.append(String.format(Locale.ROOT, "%.1f,%.1f ", x, y));
        }
        long total = counts.stream().mapToLong(Long::longValue).sum();
        int split = Math.max(0, n - recentDays);
        long before =
                counts.subList(0, split).stream().mapToLong(Long::longValue).sum();
        boolean fresh = split > 0 && before == 0 && total > 0;
        String svg = "<svg class=\"spark\" viewBox=\"0 0 " + WIDTH + " " + HEIGHT + "\" width=\"" + WIDTH
                + "\" height=\"" + HEIGHT + "\" role=\"img\" aria-label=\"" + total + " reports in " + n
                + " days\"><polyline fill=\"none\" stroke=\"currentColor\" stroke-width=\"1.5\" points=\""
                + points.toString().trim() + "\"/></svg>";
        return new Sparkline(svg, total, fresh);
    }
}
