package dev.vigil.schemas.delivery;

import dev.vigil.schemas.EventCodec;
import dev.vigil.schemas.EventDecodingException;
import java.util.HexFormat;
import java.util.List;

/** Reads image manifests and checks their shape: chunks that tile the image, within the chunker's bounds. */
public final class ImageManifests {

    /** No manifest lists more chunks: 64 GiB images at the minimum chunk size. */
    public static final int MAX_CHUNKS = 262_144;

    private ImageManifests() {}

    /** Decodes a manifest and checks its shape. */
    public static ImageManifest decode(byte[] bytes) throws MetadataException {
        ImageManifest manifest;
        try {
            manifest = EventCodec.of(ImageManifest.class).decodeWhole(bytes);
        } catch (EventDecodingException e) {
            throw new MetadataException(MetadataProblem.MALFORMED, "not an image manifest (" + e.reason() + ")");
        }
        String problem = shapeProblem(manifest);
        if (problem != null) {
            throw new MetadataException(MetadataProblem.MALFORMED, problem);
        }
        return manifest;
    }

    /**
     * What is wrong with a manifest's shape, or null: the chunks must start at 0, follow each other without gap or
     * overlap, end at the image size, and each be 1 to {@code maxSize} bytes long.
     */
    public static String shapeProblem(ImageManifest manifest) {
        List<ImageChunk> chunks = manifest.getChunks();
        if (manifest.getSize() < 0) {
            return "the image size is negative";
        }
        if (chunks.size() > MAX_CHUNKS) {
            return "the manifest lists " + chunks.size() + " chunks, more than " + MAX_CHUNKS;
        }
        if (!manifest.getSha256().matches("[0-9a-f]{64}")) {
            return "the image hash is not 64 lowercase hex digits";
        }
        int maxSize = manifest.getChunking().getMaxSize();
        if (maxSize < 1 || maxSize > 64 * 1024 * 1024) {
            return "the chunking's maxSize must be 1 byte to 64 MiB";
        }
        long next = 0;
        for (int i = 0; i < chunks.size(); i++) {
            ImageChunk chunk = chunks.get(i);
            if (chunk.getOffset() != next) {
                return "chunk " + i + " starts at " + chunk.getOffset() + ", expected " + next
                        + " (chunks must tile the image in order)";
            }
            if (chunk.getLength() < 1 || chunk.getLength() > maxSize) {
                return "chunk " + i + " is " + chunk.getLength() + " bytes, outside 1-" + maxSize;
            }
            next += chunk.getLength();
        }
        if (next != manifest.getSize()) {
            return "the chunks cover " + next + " bytes but the image is " + manifest.getSize();
        }
        return null;
    }

    /** A chunk's hash as lowercase hex: its name in object storage. */
    public static String hex(Sha256 sha256) {
        return HexFormat.of().formatHex(sha256.bytes());
    }

    /** The object storage key of a chunk: {@code chunks/sha256/<2 hex>/<hash>}. */
    public static String objectKey(String sha256Hex) {
        return "chunks/sha256/" + sha256Hex.substring(0, 2) + "/" + sha256Hex;
    }
}
