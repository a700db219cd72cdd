package dev.vigil.console.web;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.List;
import org.junit.jupiter.api.Test;

class PagePartsTest {

    @Test
    void aSparklineDrawsOnePointPerDayAndMarksABucketNewInThePeriod() {
        Sparkline fresh = Sparkline.of(List.of(0L, 0L, 0L, 0L, 2L, 5L), 2);
        assertThat(fresh.total()).isEqualTo(7);
        assertThat(fresh.fresh()).isTrue();
        assertThat(fresh.svg()).contains("aria-label=\"7 reports in 6 days\"");
        String points = fresh.svg().replaceAll(".*points=\"([^\"]+)\".*", "$1");
        assertThat(points.split(" ")).hasSize(6);
        // The highest day is at the top of the box, days without reports at the bottom.
        assertThat(points.split(" ")[5]).endsWith(",2.0");
        assertThat(points.split(" ")[0]).endsWith(",22.0");

        assertThat(Sparkline.of(List.of(1L, 0L, 0L, 0L, 2L, 5L), 2).fresh()).isFalse();
        assertThat(Sparkline.of(List.of(), 7).svg()).isEmpty();
    }

    @Test
    void numbersKeepTwoSignificantDigitsBelowOneAndDashesWhenUnknown() {
        assertThat(Formats.num(null, 2)).isEqualTo("—");
        assertThat(Formats.num(0.002606, 1)).isEqualTo("0.0026");
        assertThat(Formats.num(1234.5678, 2)).isEqualTo("1,234.57");
        assertThat(Formats.bytes(35_740_296)).isEqualTo("34.1 MiB");
        assertThat(Formats.brief("a334f43f-a9ac-4b9d-b0a8-dbf75bc42838")).isEqualTo("a334f43f");
        assertThat(Formats.duration("PT1H30M")).isEqualTo("1 h 30 min");
        assertThat(Formats.duration("PT0S")).isEqualTo("0 s");
        assertThat(Formats.duration("P2DT5S")).isEqualTo("2 d 5 s");
        assertThat(Formats.duration("soon")).isEqualTo("soon");
    }

    @Test
    void badPageParametersSayWhatWasExpected() {
        assertThatThrownBy(() -> Pages.uuid("not-a-uuid\u0000"))
                .isInstanceOf(PageException.class)
                .hasMessageContaining("UUID")
                .hasMessageContaining("\"not-a-uuid?\"");
        assertThatThrownBy(() -> Pages.choice("days", "3", 7, List.of(1, 7)))
                .hasMessage("days is one of [1, 7]; got \"3\"");
        assertThat(Pages.choice("days", null, 7, List.of(1, 7))).isEqualTo(7);
        assertThatThrownBy(() -> Pages.number("page", "2147483648", 0, 0, 100)).isInstanceOf(PageException.class);
    }

    @Test
    void flightRecorderLinesBecomeRowsAndOtherTextStaysAsItIs() {
        ObjectMapper json = new ObjectMapper();
        FlightRecord event = FlightRecord.parse(
                "{\"at\":\"2026-12-07T03:22:19.101Z\",\"kind\":\"event\",\"record\":{\"envelope\":{\"eventType\":"
                        + "\"dev.vigil.agent.crash\"},\"payload\":{\"reason\":\"GUEST_PANICKED\"}}}",
                json);
        assertThat(event)
                .isEqualTo(
                        new FlightRecord("2026-12-07T03:22:19.101Z", "event", "crash {\"reason\":\"GUEST_PANICKED\"}"));
        FlightRecord sample = FlightRecord.parse(
                "{\"at\":\"t\",\"kind\":\"sample\",\"record\":{\"vm\":{\"state\":\"RUNNING\",\"cpuTimeNanos\":3980000000}}}",
                json);
        assertThat(sample.what()).isEqualTo("RUNNING, vCPU time 3980 ms");
        assertThat(FlightRecord.parse("<not json>", json)).isEqualTo(new FlightRecord("", "text", "<not json>"));
    }

    @Test
    void consoleLinesThatAnnounceACrashAreMarked() {
        List<ConsoleLine> lines = ConsoleLine.of("[    1.0] Booting\n[   12.3] Kernel panic - not syncing: x\n");
        assertThat(lines).extracting(ConsoleLine::hit).containsExactly(false, true, false);
    }

    @Test
    void aPartFromAServiceThatCannotAnswerSaysWhyInsteadOfFailingThePage() {
        assertThat(Partial.of("Dispatch", () -> List.of("a"))).isEqualTo(new Partial<>(List.of("a"), null));
        assertThat(Partial.of("Dispatch", () -> {
                            throw new jakarta.ws.rs.ProcessingException("Connection refused");
                        })
                        .unavailable())
                .isEqualTo("Dispatch is unreachable just now; this part is left out.");
        assertThat(Partial.of("Dispatch", () -> {
                            throw new jakarta.ws.rs.ForbiddenException();
                        })
                        .unavailable())
                .isEqualTo("Dispatch does not show this to you.");
        assertThat(Partial.of("Dispatch", () -> {
                            throw new jakarta.ws.rs.NotFoundException();
                        })
                        .unavailable())
                .isEqualTo("Dispatch has nothing on this.");
        assertThat(Partial.of("Dispatch", () -> {
                            throw new jakarta.ws.rs.ServiceUnavailableException();
                        })
                        .unavailable())
                .isEqualTo("Dispatch answered 503; this part is left out.");
    }
}
