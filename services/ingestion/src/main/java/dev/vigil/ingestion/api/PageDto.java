package dev.vigil.ingestion.api;

import java.util.List;

/** One page of a listing; {@code total} counts every item across pages. */
public record PageDto<T>(List<T> items, int page, int size, long total) {}
