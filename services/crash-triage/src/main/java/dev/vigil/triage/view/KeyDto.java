package dev.vigil.triage.view;

/** A symbolic key that files into a bucket, under one rules version. */
public record KeyDto(int rulesVersion, String symbolicKey) {}
