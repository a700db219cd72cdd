package dev.vigil.agent.sampling;

import static org.assertj.core.api.Assertions.assertThat;

import dev.vigil.schemas.agent.HostPowerSample;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HostPowerReaderTest {

    @TempDir
    Path root;

    @Test
    void readsIdleResidencyFrequencyEnergyDisksAndGpu() throws IOException {
        write("sys/devices/system/cpu/cpu0/cpufreq/scaling_cur_freq", "2400000");
        write("sys/devices/system/cpu/cpu0/cpuidle/state0/name", "POLL");
        write("sys/devices/system/cpu/cpu0/cpuidle/state0/time", "1200");
        write("sys/devices/system/cpu/cpu0/cpuidle/state0/usage", "7");
        write("sys/devices/system/cpu/cpu0/cpuidle/state1/name", "C6");
        write("sys/devices/system/cpu/cpu0/cpuidle/state1/time", "987654321");
        write("sys/devices/system/cpu/cpu0/cpuidle/state1/usage", "4242");
        write("sys/devices/system/cpu/cpu1/cpufreq/scaling_cur_freq", "800000");
        write("sys/class/powercap/intel-rapl:0/name", "package-0");
        write("sys/class/powercap/intel-rapl:0/energy_uj", "123456789");
        write("sys/class/drm/card0/device/gpu_busy_percent", "97");
        write("proc/diskstats", """
                   8       0 sda 100 0 800 50 20 0 160 30 0 4321 80 0 0 0 0
                   8       1 sda1 90 0 700 40 10 0 80 20 0 999 60 0 0 0 0
                   7       0 loop0 1 0 2 0 0 0 0 0 0 1 0 0 0 0 0
                """);

        HostPowerSample sample =
                new HostPowerReader(root.resolve("sys"), root.resolve("proc"), new HostTools("")).read();

        assertThat(sample.getCpus()).hasSize(2);
        assertThat(sample.getCpus().get(0).getFrequencyKhz()).isEqualTo(2_400_000L);
        assertThat(sample.getCpus().get(0).getIdleStates())
                .extracting(s -> s.getName() + "=" + s.getResidencyMicros() + "/" + s.getEntries())
                .containsExactly("POLL=1200/7", "C6=987654321/4242");
        assertThat(sample.getEnergy()).singleElement().satisfies(e -> {
            assertThat(e.getDomain()).isEqualTo("package-0");
            assertThat(e.getMicrojoules()).isEqualTo(123_456_789L);
        });
        assertThat(sample.getGpus())
                .singleElement()
                .satisfies(g -> assertThat(g.getUtilizationPercent()).isEqualTo(97.0));
        assertThat(sample.getDisks()).singleElement().satisfies(d -> {
            assertThat(d.getDevice()).isEqualTo("sda");
            assertThat(d.getIoMillis()).isEqualTo(4321L);
        });
        assertThat(sample.getUnavailable()).containsExactly("disk-spin-state");
    }

    @Test
    void namesMissingSourcesOnceNotEveryTick() {
        HostPowerReader reader =
                new HostPowerReader(root.resolve("nothing"), root.resolve("nothing"), new HostTools(""));

        assertThat(reader.read().getUnavailable())
                .containsExactly("cpufreq", "cpuidle", "disk-spin-state", "gpu", "rapl");
        assertThat(reader.read().getUnavailable()).isEmpty();
    }

    private void write(String path, String content) throws IOException {
        Path file = root.resolve(path);
        Files.createDirectories(file.getParent());
        Files.writeString(file, content);
    }
}
