package dev.vigil.agent.hypervisor;

import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
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
    private final Memory out = new Memory(com.sun.jna.Native.POINTER_SIZE);
    private final byte[] uuid = new byte[37];

    public DomainStatsReader(VigilConnect connection) {
        this.connection = connection;
    }

    public List<DomainStats> read() {
        out.setPointer(0, null);
        int count = LibvirtDirect.virConnectGetAllDomainStats(connection.pointer(), ALL_STATS, out, 0);
        if (count < 0) {
            throw new HypervisorException("virConnectGetAllDomainStats failed on " + connection);
        }
        Pointer records = out.getPointer(0);
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
                stats.add(new DomainStats(uuid(dom), name(dom), fields));
            }
        } finally {
            if (records != null) {
                LibvirtDirect.virDomainStatsRecordListFree(records);
            }
        }
        return stats;
    }

    private void cpuTimeFromInfo(Pointer dom, Map<String, Object> fields) {
        if (LibvirtDirect.virDomainGetInfo(dom, info) == 0) {
            fields.put("cpu.time", info.getLong(DOMAIN_INFO_CPU_TIME_OFFSET));
            fields.putIfAbsent("vcpu.maximum", (long) (info.getShort(DOMAIN_INFO_VCPUS_OFFSET) & 0xFFFF));
        }
    }

    private String uuid(Pointer dom) {
        return LibvirtDirect.virDomainGetUUIDString(dom, uuid) < 0
                ? ""
                : new String(uuid, 0, 36, StandardCharsets.US_ASCII);
    }

    private static String name(Pointer dom) {
        Pointer name = LibvirtDirect.virDomainGetName(dom);
        return name == null ? "" : name.getString(0, StandardCharsets.UTF_8.name());
    }

    /**
     * The typed parameters of one record, read through one view of their native array rather than a native call per
     * field and value.
     */
    private static Map<String, Object> decode(Pointer params, int count) {
        Map<String, Object> fields = new HashMap<>();
        if (count <= 0 || params == null) {
            return fields;
        }
        ByteBuffer all = params.getByteBuffer(0, (long) count * LibvirtNative.TYPED_PARAM_BYTES)
                .order(ByteOrder.nativeOrder());
        byte[] name = new byte[PARAM_FIELD_BYTES];
        for (int i = 0; i < count; i++) {
            int at = i * LibvirtNative.TYPED_PARAM_BYTES;
            int end = 0;
            while (end < PARAM_FIELD_BYTES && all.get(at + end) != 0) {
                end++;
            }
            all.get(at, name, 0, end);
            String field = new String(name, 0, end, StandardCharsets.US_ASCII);
            int value = at + PARAM_VALUE_OFFSET;
            Object decoded = switch (all.getInt(at + PARAM_TYPE_OFFSET)) {
                case LibvirtNative.TYPED_PARAM_INT -> (long) all.getInt(value);
                case LibvirtNative.TYPED_PARAM_UINT -> Integer.toUnsignedLong(all.getInt(value));
                case LibvirtNative.TYPED_PARAM_LLONG, LibvirtNative.TYPED_PARAM_ULLONG -> all.getLong(value);
                case LibvirtNative.TYPED_PARAM_DOUBLE -> all.getDouble(value);
                case LibvirtNative.TYPED_PARAM_BOOLEAN -> all.getInt(value) != 0;
                case LibvirtNative.TYPED_PARAM_STRING -> {
                    long text = all.getLong(value);
                    yield text == 0 ? null : new Pointer(text).getString(0);
                }
                default -> null;
            };
            if (decoded != null) {
                fields.put(field, decoded);
            }
        }
        return fields;
    }
}
