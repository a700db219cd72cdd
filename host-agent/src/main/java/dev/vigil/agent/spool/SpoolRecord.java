package dev.vigil.agent.spool;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One captured record waiting to be published: where it goes, its key, its event id, its headers and its
 * already-encoded value.
 */
public record SpoolRecord(String topic, String key, String eventId, Map<String, byte[]> headers, byte[] value) {

    public SpoolRecord {
        headers = Map.copyOf(headers);
    }

    byte[] toBytes() {
        try {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream(value.length + 256);
            DataOutputStream out = new DataOutputStream(bytes);
            out.writeUTF(topic);
            out.writeUTF(key);
            out.writeUTF(eventId);
            out.writeShort(headers.size());
            for (Map.Entry<String, byte[]> header : headers.entrySet()) {
                out.writeUTF(header.getKey());
                out.writeInt(header.getValue().length);
                out.write(header.getValue());
            }
            out.writeInt(value.length);
            out.write(value);
            out.flush();
            return bytes.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Decodes a body whose checksum already matched; a malformed body still fails with an IOException. */
    static SpoolRecord fromBytes(byte[] body) throws IOException {
        DataInputStream in = new DataInputStream(new ByteArrayInputStream(body));
        String topic = in.readUTF();
        String key = in.readUTF();
        String eventId = in.readUTF();
        int headerCount = in.readUnsignedShort();
        Map<String, byte[]> headers = new LinkedHashMap<>();
        for (int i = 0; i < headerCount; i++) {
            String name = in.readUTF();
            headers.put(name, readSized(in, body.length));
        }
        byte[] value = readSized(in, body.length);
        return new SpoolRecord(topic, key, eventId, headers, value);
    }

    private static byte[] readSized(DataInputStream in, int limit) throws IOException {
        int length = in.readInt();
        if (length < 0 || length > limit) {
            throw new IOException("field length " + length + " exceeds the record");
        }
        return in.readNBytes(length);
    }
}
