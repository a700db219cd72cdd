package dev.vigil.triage.api;

import dev.vigil.problem.ProblemException;
import dev.vigil.problem.RequestParams;

/** A page of a list, parsed from query text so a bad value is a 400 problem, not a 404. */
record PageParams(int limit, int offset) {

    /** Deep offsets cost a scan of everything before them: past this, narrow the query instead. */
    static final int MAX_OFFSET = 10_000;

    static PageParams parse(String limit, String offset, int defaultLimit, int maxLimit) {
        int l = RequestParams.wholeNumber("limit", limit, defaultLimit);
        int o = RequestParams.wholeNumber("offset", offset, 0);
        if (l < 1 || l > maxLimit || o < 0 || o > MAX_OFFSET) {
            throw ProblemException.badRequest(
                    "Bad paging", "limit must be 1-" + maxLimit + " and offset 0-" + MAX_OFFSET);
        }
        return new PageParams(l, o);
    }
}
