package dev.vigil.agent.hypervisor;

import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import com.sun.jna.ptr.PointerByReference;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** Reads every domain's statistics with one {@code virConnectGetAllDomainStats} call. */
public final class DomainStatsReader {

    private static final int ALL_STATS = 0;
    private static final int RECORD_PARAMS_OFFSET = 8;
    private static final int RECORD_NPARAMS_OFFSET = 16;
    private static final int PARAM_FIELD_BYTES = 80;
    private static final int PARAM_TYPE_OFFSET = 80;
    private static final int PARAM_VALUE_OFFSET = 88;
    private static final int DOMAIN_INFO_BYTES = 40;
    private static final int DOMAIN_INFO_CPU_TIME_OFFSET = 32;
    private static final int DOMAIN_INFO_VCPUS_OFFSET = 24;
    private static final long STATE_RUNNING = 1;

    private final VigilConnect connection;
    private final Memory info = new Memory(DOMAIN_INFO_BYTES);

    public DomainStatsReader(VigilConnect connection) {
        this.connection = connection;
    }

    public List<DomainStats> read() {
        PointerByReference out = new PointerByReference();
        int count = LibvirtNative.LIB.virConnectGetAllDomainStats(connection.pointer(), ALL_STATS, out, 0);
        if (count < 0) {
            throw new HypervisorException("virConnectGetAllDomainStats failed on " + connection);
        }
        Pointer records = out.getValue();
        List<DomainStats> stats = new ArrayList<>(count);
        try {
            for (int i = 0; i < count; i++) {
                Pointer record = records.getPointer((long) i * com.sun.jna.Native.POINTER_SIZE);
                Pointer dom = record.getPointer(0);
                Pointer params = record.getPointer(RECORD_PARAMS_OFFSET);
                int nparams = record.getInt(RECORD_NPARAMS_OFFSET);
                Map<String, Object> fields = decode(params, nparams);
                if (!fields.containsKey("cpu.time")
                        && Long.valueOf(STATE_RUNNING).equals(fields.get("state.state"))) {
                    // Some hypervisors (libvirt's test driver among them) report only state.*: take the CPU time
                    // from virDomainGetInfo on the same domain pointer.
                    cpuTimeFromInfo(dom, fields);
                }
                stats.add(new DomainStats(NativeDomainEvents.uuid(dom), NativeDomainEvents.name(dom), fields));
            }
        } finally {
            if (records != null) {
                LibvirtNative.LIB.virDomainStatsRecordListFree(records);
            }
        }
        return stats;
    }

    private void cpuTimeFromInfo(Pointer dom, Map<String, Object> fields) {
        if (LibvirtNative.LIB.virDomainGetInfo(dom, info) == 0) {
            fields.put("cpu.time", info.getLong(DOMAIN_INFO_CPU_TIME_OFFSET));
            fields.putIfAbsent("vcpu.maximum", (long) (info.getShort(DOMAIN_INFO_VCPUS_OFFSET) & 0xFFFF));
        }
    }

    private static Map<String, Object> decode(Pointer params, int count) {
        Map<String, Object> fields = new HashMap<>();
        for (int i = 0; i < count; i++) {
            Pointer param = params.share((long) i * LibvirtNative.TYPED_PARAM_BYTES);
            byte[] fieldBytes = param.getByteArray(0, PARAM_FIELD_BYTES);
            int end = 0;
            while (end < fieldBytes.length && fieldBytes[end] != 0) {
                end++;
            }
            String field = new String(fieldBytes, 0, end, java.nio.charset.StandardCharsets.US_ASCII);
            Object value = switch (param.getInt(PARAM_TYPE_OFFSET)) {
                case LibvirtNative.TYPED_PARAM_INT -> (long) param.getInt(PARAM_VALUE_OFFSET);
                case LibvirtNative.TYPED_PARAM_UINT -> Integer.toUnsignedLong(param.getInt(PARAM_VALUE_OFFSET));
                case LibvirtNative.TYPED_PARAM_LLONG, LibvirtNative.TYPED_PARAM_ULLONG ->
                    param.getLong(PARAM_VALUE_OFFSET);
                case LibvirtNative.TYPED_PARAM_DOUBLE -> param.getDouble(PARAM_VALUE_OFFSET);
                case LibvirtNative.TYPED_PARAM_BOOLEAN -> param.getInt(PARAM_VALUE_OFFSET) != 0;
                case LibvirtNative.TYPED_PARAM_STRING -> {
                    Pointer text = param.getPointer(PARAM_VALUE_OFFSET);
                    yield text == null ? null : text.getString(0);
                }
                default -> null;
            };
            if (value != null) {
                fields.put(field, value);
            }
        }
        return fields;
    }
}
