package dev.vigil.dispatch.service;

import dev.vigil.dispatch.domain.ReleaseState;
import java.util.List;

/** Where an image upload stands: the chunks the store still lacks, which are all the uploader must send. */
public record UploadStatus(ReleaseState state, int chunks, List<String> missing, long missingBytes) {}
