package dev.vigil.triage.bucket;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * The estimate of distinct identities from sketches filled by {@link Reach#put} (BucketTallyIT checks that it and
 * PostgreSQL's {@code reach_add} fill them alike).
 */
class ReachTest {

    @Test
    void smallCountsAreExactAndLargeOnesWithinAFewPercent() throws Exception {
        assertThat(new Reach().estimate()).isZero();
        for (int n : new int[] {1, 2, 3, 10, 20}) {
            assertThat(sketchOf(0, n).estimate()).as("%d identities", n).isEqualTo(n);
        }
        for (int n : new int[] {50, 100, 300, 800}) {
            assertThat((double) sketchOf(0, n).estimate())
                    .as("%d identities", n)
                    .isCloseTo(n, within(n * 0.08));
        }
        for (int n : new int[] {500, 1_000, 5_000, 20_000, 200_000}) {
            assertThat((double) sketchOf(0, n).estimate())
                    .as("%d identities", n)
                    .isCloseTo(n, within(n * 0.08));
        }
    }

    @Test
    void mergingSketchesCountsTheUnionNotTheSum() throws Exception {
        Reach merged = new Reach()
                .add(registers(0, 3_000))
                .add(registers(2_000, 5_000))
                .add(registers(0, 10));
        assertThat((double) merged.estimate()).isCloseTo(5_000, within(300.0));
        // A sketch not written by reach_add (another size) is ignored, not misread.
        assertThat(new Reach().add(new byte[12]).add(null).estimate()).isZero();
    }

    private static org.assertj.core.data.Offset<Double> within(double d) {
        return org.assertj.core.data.Offset.offset(d);
    }

    private static Reach sketchOf(int from, int to) {
        return new Reach().add(registers(from, to));
    }

    /** Registers for identities host-from .. host-(to - 1). */
    private static byte[] registers(int from, int to) {
        byte[] r = new byte[Reach.REGISTERS];
        for (int i = from; i < to; i++) {
            Reach.put(r, "host-" + i);
        }
        return r;
    }
}
