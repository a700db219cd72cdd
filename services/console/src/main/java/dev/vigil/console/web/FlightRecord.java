package dev.vigil.console.web;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.List;

/**
 * One line of the agent's flight recorder (NDJSON: what the agent saw of the VM before the crash), as a row: when,
 * what kind, and what happened in a few words. A line that is not JSON is shown as it is.
 */
public record FlightRecord(String at, String kind, String what) {

    static final int MAX_WHAT = 400;

    static List<FlightRecord> parse(List<String> lines, ObjectMapper json) {
        List<FlightRecord> records = new ArrayList<>();
        for (String line : lines) {
            records.add(parse(line, json));
        }
        return records;
    }

    static FlightRecord parse(String line, ObjectMapper json) {
        JsonNode node;
        try {
            node = json.readTree(line);
        } catch (Exception e) {
            return new FlightRecord("", "text", cut(line));
        }
        if (node == null || !node.isObject()) {
            return new FlightRecord("", "text", cut(line));
        }
        String at = node.path("at").asText("");
        String kind = node.path("kind").asText("");
        JsonNode record = node.path("record");
        String what;
        if (kind.equals("event")) {
            String type =
                    record.path("envelope").path("eventType").asText("").replaceFirst("^dev\\.vigil\\.agent\\.", "");
            what = type + " " + record.path("payload").toString();
        } else if (kind.equals("sample")) {
            JsonNode vm = record.path("vm");
            what = vm.path("state").asText("") + ", vCPU time "
                    + vm.path("cpuTimeNanos").asLong() / 1_000_000 + " ms";
        } else if (node.has("capture")) {
            JsonNode capture = node.path("capture");
            kind = "capture";
            what = capture.path("trigger").asText("") + " captured in "
                    + capture.path("tookMillis").asLong() + " ms: "
                    + capture.path("artifacts").toString();
        } else {
            what = node.toString();
        }
        return new FlightRecord(at, kind, cut(what));
    }

    private static String cut(String text) {
        return text.length() > MAX_WHAT ? text.substring(0, MAX_WHAT) + "…" : text;
    }
}
