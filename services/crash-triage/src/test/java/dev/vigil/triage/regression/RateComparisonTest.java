package dev.vigil.triage.regression;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.data.Offset.offset;

import org.junit.jupiter.api.Test;

class RateComparisonTest {

    @Test
    void binomialTailsMatchExactValues() {
        // P(X >= 9), X ~ Bin(10, 1/2) = 11/1024.
        assertThat(RateComparison.upperTail(9, 10, 0.5)).isCloseTo(11.0 / 1024, offset(1e-15));
        // P(X >= 3), X ~ Bin(5, 0.2) = 0.05792.
        assertThat(RateComparison.upperTail(3, 5, 0.2)).isCloseTo(0.05792, offset(1e-12));
        // Below the mean: P(X >= 2), X ~ Bin(10, 1/2) = 1 - 11/1024.
        assertThat(RateComparison.upperTail(2, 10, 0.5)).isCloseTo(1 - 11.0 / 1024, offset(1e-12));
        assertThat(RateComparison.upperTail(0, 10, 0.5)).isEqualTo(1.0);
        assertThat(RateComparison.upperTail(11, 10, 0.5)).isEqualTo(0.0);
        assertThat(RateComparison.logGamma(11)).isCloseTo(Math.log(3_628_800), offset(1e-12));
    }

    @Test
    void aRateTenTimesHigherOnEqualExposureIsSignificant() {
        var verdict = RateComparison.compare(30, 1000, 3, 1000, 1.5, 0.01);
        assertThat(verdict.ratio()).isCloseTo(10, offset(1e-9));
        assertThat(verdict.significant()).isTrue();
        assertThat(verdict.pValue()).isLessThan(1e-4);
    }

    @Test
    void theSameRateIsNotAndNeitherIsAFewCrashesOnLittleData() {
        assertThat(RateComparison.compare(10, 1000, 10, 1000, 1.5, 0.01).significant())
                .isFalse();
        // 2 versus 0 could be chance: Bin(2, 0.6) gives P(X >= 2) = 0.36.
        var few = RateComparison.compare(2, 1000, 0, 1000, 1.5, 0.01);
        assertThat(few.ratio()).isInfinite();
        assertThat(few.pValue()).isCloseTo(0.36, offset(1e-12));
        assertThat(few.significant()).isFalse();
    }

    @Test
    void exposureMatters() {
        // 20 versus 10 crashes: twice as many, but on four times the VM-hours the rate halved.
        assertThat(RateComparison.compare(20, 4000, 10, 1000, 1.0, 0.05).significant())
                .isFalse();
        assertThat(RateComparison.compare(20, 500, 10, 1000, 1.0, 0.05).significant())
                .isTrue();
    }

    @Test
    void theMinimumRatioIsTheNullHypothesis() {
        // Rate 1.6 times higher with lots of data: significant against 1.2, not against 2.
        assertThat(RateComparison.compare(1600, 10_000, 1000, 10_000, 1.2, 0.01).significant())
                .isTrue();
        assertThat(RateComparison.compare(1600, 10_000, 1000, 10_000, 2.0, 0.01).significant())
                .isFalse();
    }

    @Test
    void refusesMeaninglessInput() {
        assertThatThrownBy(() -> RateComparison.compare(1, 0, 1, 1, 1.5, 0.01))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> RateComparison.compare(1, 1, 1, 1, 0.5, 0.01))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
