package dev.vigil.agent.sampling;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The tool parsers on output in the formats the tools print. */
class HostToolsTest {

    @Test
    void readsNvidiaSmiCsvAndLeavesNotAvailableFieldsEmpty() {
        var gpus = HostTools.parseNvidiaSmi("0, 87, 212.45, 10240\n1, 3, [N/A], 512\n");

        assertThat(gpus).hasSize(2);
        assertThat(gpus.get(0).getUtilizationPercent()).isEqualTo(87.0);
        assertThat(gpus.get(0).getPowerMilliwatts()).isEqualTo(212_450L);
        assertThat(gpus.get(0).getMemoryUsedBytes()).isEqualTo(10_737_418_240L);
        assertThat(gpus.get(1).getPowerMilliwatts()).isNull();
    }

    @Test
    void ignoresLinesThatAreNotGpuRows() {
        assertThat(HostTools.parseNvidiaSmi("NVIDIA-SMI has failed because it couldn't communicate with the driver."))
                .isEmpty();
    }

    @Test
    void readsTheStartStopCountFromSmartctl() {
        String smart = """
                ID# ATTRIBUTE_NAME          FLAG     VALUE WORST THRESH TYPE      UPDATED  WHEN_FAILED RAW_VALUE
                  1 Raw_Read_Error_Rate     0x000f   118   099   006    Pre-fail  Always       -       176914288
                  4 Start_Stop_Count        0x0032   096   096   020    Old_age   Always       -       4321
                  9 Power_On_Hours          0x0032   071   071   000    Old_age   Always       -       25981
                """;

        assertThat(HostTools.parseStartStopCount(smart)).isEqualTo(4321L);
        assertThat(HostTools.parseStartStopCount("Device is in STANDBY mode, exit(2)"))
                .isNull();
    }

    @Test
    void readsSpinStateFromHdparm() {
        assertThat(HostTools.parseSpinning("\n/dev/sda:\n drive state is:  active/idle\n"))
                .isTrue();
        assertThat(HostTools.parseSpinning("\n/dev/sdb:\n drive state is:  standby\n"))
                .isFalse();
        assertThat(HostTools.parseSpinning("/dev/nvme0n1: unknown")).isNull();
    }
}
