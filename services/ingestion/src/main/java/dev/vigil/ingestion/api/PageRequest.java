package dev.vigil.ingestion.api;

import dev.vigil.problem.ProblemException;
import dev.vigil.problem.RequestParams;

/** The page of a listing a request asks for, read from the query's text: a bad value is a 400 problem. */
record PageRequest(int page, int size) {

    static final int MAX_SIZE = 500;

    static PageRequest parse(String page, String size, int defaultSize) {
        int p = RequestParams.wholeNumber("page", page, 0);
        int s = RequestParams.wholeNumber("size", size, defaultSize);
        if (p < 0 || s < 1 || s > MAX_SIZE) {
            throw ProblemException.badRequest(
                    "Bad paging",
                    "page must be >= 0 and size between 1 and " + MAX_SIZE + " (got page=" + p + ", size=" + s + ")");
        }
        return new PageRequest(p, s);
    }

    /**
     * Whether the page starts after the last of {@code total} items, so there is nothing to fetch; a page that far
     * out may also start past what the database's int offset can say.
     */
    boolean pastEnd(long total) {
        long offset = (long) page * size;
        return offset >= total || offset > Integer.MAX_VALUE;
    }
}
