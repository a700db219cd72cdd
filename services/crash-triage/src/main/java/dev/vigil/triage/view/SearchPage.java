package dev.vigil.triage.view;

import java.util.List;

/** A page of search results. */
public record SearchPage(List<SearchDto> items, int limit, int offset) {}
