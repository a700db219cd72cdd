package dev.vigil.agent.hypervisor;

import java.util.Map;

/** One domain's statistics as libvirt names them ({@code state.state}, {@code cpu.time}, {@code block.0.rd.bytes}...). */
public record DomainStats(String vmUuid, String vmName, Map<String, Object> fields) {

    public DomainStats {
        fields = Map.copyOf(fields);
    }

    /** A numeric field, or null when absent or not a number. */
    public Long number(String field) {
        return fields.get(field) instanceof Number n ? n.longValue() : null;
    }

    public String text(String field) {
        return fields.get(field) instanceof String s ? s : null;
    }
}
