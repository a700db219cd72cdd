package dev.vigil.agent.spool;

/** Where a record starts: its segment's sequence number and byte offset. Ordered by segment, then offset. */
public record SpoolPosition(long segment, long offset) implements Comparable<SpoolPosition> {

    @Override
    public int compareTo(SpoolPosition other) {
        int bySegment = Long.compare(segment, other.segment);
        return bySegment != 0 ? bySegment : Long.compare(offset, other.offset);
    }
}
