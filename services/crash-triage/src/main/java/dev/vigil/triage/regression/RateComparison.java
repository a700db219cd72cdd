package dev.vigil.triage.regression;

/**
 * Whether a bucket's crash rate in a release is significantly higher than in the previous release: the conditional
 * (exact) binomial test of two Poisson counts with their exposures. Given {@code n = k1 + k0} crashes in both
 * releases, under the null hypothesis that the rate ratio {@code λ1/λ0} is at most {@code ρ} the count in the new
 * release is Binomial({@code n}, {@code ρ·t1 / (ρ·t1 + t0)}); the one-sided p-value is {@code P(X >= k1)}. Testing
 * against {@code ρ} (the minimum rate ratio) rather than 1 makes a verdict mean "more than ρ times worse", not
 * merely "worse".
 */
public final class RateComparison {

    /** What the test is, for readers of its results. */
    public static final String NAME = "one-sided exact conditional binomial test of two Poisson counts";

    private RateComparison() {}

    /**
     * A comparison's outcome.
     *
     * @param ratio the observed rate ratio (new over previous), or {@code +Infinity} when the previous rate is 0
     * @param pValue the one-sided p-value against a ratio of at most the minimum
     * @param significant whether {@code pValue < alpha}
     */
    public record Verdict(double ratio, double pValue, boolean significant) {}

    /**
     * @param k1 crashes in the new release
     * @param t1 its exposure (VM-hours), positive
     * @param k0 crashes in the previous release
     * @param t0 its exposure (VM-hours), positive
     * @param minRatio the smallest rate ratio worth a verdict (at least 1)
     * @param alpha the significance level
     */
    public static Verdict compare(long k1, double t1, long k0, double t0, double minRatio, double alpha) {
        if (k1 < 0 || k0 < 0 || !(t1 > 0) || !(t0 > 0) || minRatio < 1 || !(alpha > 0 && alpha < 1)) {
            throw new IllegalArgumentException("counts must be >= 0, exposures > 0, minRatio >= 1, 0 < alpha < 1");
        }
        double ratio = k0 == 0 ? (k1 == 0 ? 0 : Double.POSITIVE_INFINITY) : (k1 / t1) / (k0 / t0);
        long n = k1 + k0;
        double p = minRatio * t1 / (minRatio * t1 + t0);
        double pValue = upperTail(k1, n, p);
        return new Verdict(ratio, pValue, pValue < alpha);
    }

    /** {@code P(X >= k)} for {@code X ~ Binomial(n, p)}, summed in log space from {@code k} up. */
    static double upperTail(long k, long n, double p) {
        if (k <= 0) {
            return 1.0;
        }
        if (k > n) {
            return 0.0;
        }
        if (p >= 1) {
            return 1.0;
        }
        if (k <= n * p) {
            // At or below the mean the tail is about one half or more: never significant, and the sum is long.
            return Math.min(1.0, 1.0 - lowerTail(k - 1, n, p));
        }
        double logTerm = logChoose(n, k) + k * Math.log(p) + (n - k) * Math.log1p(-p);
        double term = Math.exp(logTerm);
        double sum = 0;
        double odds = p / (1 - p);
        for (long i = k; i <= n; i++) {
            sum += term;
            if (term < sum * 1e-17) {
                break;
            }
            term *= (double) (n - i) / (i + 1) * odds;
        }
        return Math.min(1.0, sum);
    }

    /** {@code P(X <= k)}, summed from {@code k} down (used only below the mean, where terms shrink going down). */
    private static double lowerTail(long k, long n, double p) {
        if (k < 0) {
            return 0;
        }
        double term = Math.exp(logChoose(n, k) + k * Math.log(p) + (n - k) * Math.log1p(-p));
        double sum = 0;
        double odds = (1 - p) / p;
        for (long i = k; i >= 0; i--) {
            sum += term;
            if (term < sum * 1e-17) {
                break;
            }
            term *= (double) i / (n - i + 1) * odds;
        }
        return Math.min(1.0, sum);
    }

    static double logChoose(long n, long k) {
        return logGamma(n + 1.0) - logGamma(k + 1.0) - logGamma(n - k + 1.0);
    }

    /** Lanczos approximation (g = 7, 9 terms), accurate to about 15 digits for positive arguments. */
    static double logGamma(double x) {
        if (x < 0.5) {
            return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - logGamma(1 - x);
        }
        double[] c = {
            0.99999999999980993,
            676.5203681218851,
            -1259.1392167224028,
            771.32342877765313,
            -176.61502916214059,
            12.507343278686905,
            -0.13857109526572012,
            9.9843695780195716e-6,
            1.5056327351493116e-7
        };
        double y = x - 1;
        double a = c[0];
        double t = y + 7.5;
        for (int i = 1; i < 9; i++) {
            a += c[i] / (y + i);
        }
        return 0.5 * Math.log(2 * Math.PI) + (y + 0.5) * Math.log(t) - t + Math.log(a);
    }
}
