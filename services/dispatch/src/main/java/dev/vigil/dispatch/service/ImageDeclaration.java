package dev.vigil.dispatch.service;

import java.util.List;

/** A vendor's description of a master image as chunks: what {@code PUT .../image} carries. */
public record ImageDeclaration(String format, long size, String sha256, Chunking chunking, List<Chunk> chunks) {

    /** How the chunks were cut. */
    public record Chunking(String algorithm, int minSize, int averageSize, int maxSize) {}

    /** One chunk: where it starts, how long it is and its SHA-256 in hex. */
    public record Chunk(long offset, int length, String sha256) {}
}
