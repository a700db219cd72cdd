package dev.vigil.dispatch.service;

import dev.vigil.dispatch.domain.Enrolment;
import dev.vigil.dispatch.domain.Program;

/** What a user gets for enrolling: the one-time token their agent redeems, shown once. */
public record EnrolmentTicket(Program program, Enrolment enrolment, String token) {}
