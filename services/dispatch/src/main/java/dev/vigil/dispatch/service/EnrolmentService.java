package dev.vigil.dispatch.service;

import dev.vigil.dispatch.config.DispatchConfig;
import dev.vigil.dispatch.domain.Enrolment;
import dev.vigil.dispatch.domain.EnrolmentToken;
import dev.vigil.dispatch.domain.Host;
import dev.vigil.dispatch.domain.LicenseRecord;
import dev.vigil.dispatch.domain.Names;
import dev.vigil.dispatch.domain.Program;
import dev.vigil.dispatch.domain.Release;
import dev.vigil.dispatch.domain.TemplateParameter;
import dev.vigil.dispatch.domain.Tokens;
import dev.vigil.dispatch.persistence.Database;
import dev.vigil.dispatch.persistence.EnrolmentRepository;
import dev.vigil.dispatch.persistence.HostRepository;
import dev.vigil.dispatch.persistence.MetadataRepository;
import dev.vigil.dispatch.persistence.ProductRepository;
import dev.vigil.dispatch.persistence.ProgramRepository;
import dev.vigil.dispatch.persistence.ReleaseRepository;
import dev.vigil.schemas.RecordSeals;
import dev.vigil.schemas.delivery.Role;
import dev.vigil.serviceauth.RecordKeys;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.Startup;
import jakarta.enterprise.context.ApplicationScoped;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Pattern;
import org.jboss.logging.Logger;

/**
 * Beta enrolment in one click: a user picks a programme, gives a name and an email, and gets a one-time token; the
 * agent on their machine redeems it once, before it expires, and comes back enrolled: a host token, what to
 * install, the vendor's root of trust and a license. Bad, expired and replayed tokens are refused with the reason.
 */
@ApplicationScoped
@Startup
public class EnrolmentService {

    private static final Logger LOG = Logger.getLogger(EnrolmentService.class);
    private static final Pattern EMAIL = Pattern.compile("[^@\\s]{1,64}@[^@\\s]{1,190}\\.[^@\\s]{1,63}");
    private static final Pattern PROGRAM_ID = Pattern.compile("[a-z0-9][a-z0-9-]{0,62}");

    private final Database db;
    private final LicenseService licenses;
    private final RolloutCohorts cohorts;
    private final MeterRegistry metrics;
    private final Duration tokenTtl;
    private final String tenant;
    private final RecordKeys recordKeys;
    private final Clock clock = Clock.systemUTC();

    EnrolmentService(
            Database db,
            LicenseService licenses,
            RolloutCohorts cohorts,
            MeterRegistry metrics,
            DispatchConfig config,
            RecordKeys recordKeys) {
        this.db = db;
        this.licenses = licenses;
        this.cohorts = cohorts;
        this.metrics = metrics;
        this.tokenTtl = config.dispatch().enrolment().tokenTtl();
        this.tenant = config.dispatch().enrolment().tenant();
        this.recordKeys = recordKeys;
        // Started with the service (@Startup): a dispatch that could not give hosts their record keys stops at once.
        recordKeys.requireUsable();
    }

    public Program createProgram(
            String id,
            String product,
            String channel,
            String title,
            String description,
            boolean open,
            String invitationCode,
            Integer licenseDays,
            List<String> features,
            String by) {
        if (id == null || !PROGRAM_ID.matcher(id).matches()) {
            throw RefusedException.badRequest(
                    "Bad programme", "a programme id is 1-63 lowercase letters, digits or '-'");
        }
        String problem = Names.channelProblem(channel);
        if (problem != null) {
            throw RefusedException.badRequest("Bad programme", problem);
        }
        if (title == null || title.isBlank() || title.length() > 200) {
            throw RefusedException.badRequest("Bad programme", "a programme needs a title of 1-200 characters");
        }
        if (!open && (invitationCode == null || invitationCode.strip().length() < 8)) {
            throw RefusedException.badRequest(
                    "Bad programme", "a programme that is not open needs an invitation code of 8 or more characters");
        }
        int days = licenseDays == null ? 30 : licenseDays;
        if (days < 1 || days > 3650) {
            throw RefusedException.badRequest("Bad programme", "licenseDays is 1-3650");
        }
        Program program = new Program(
                id,
                product,
                channel,
                title.strip(),
                description == null ? "" : description,
                open,
                open ? null : Tokens.sha256(invitationCode.strip()),
                days,
                features == null
                        ? List.of()
                        : features.stream().sorted().distinct().toList(),
                by,
                clock.instant());
        boolean created = db.transaction(c -> {
            if (ProductRepository.find(c, product) == null) {
                throw RefusedException.unprocessable("Unknown product", "no product " + product);
            }
            return ProgramRepository.insert(c, program);
        });
        if (!created) {
            throw RefusedException.conflict("Programme exists", "a programme with id " + id + " exists");
        }
        return program;
    }

    public List<Program> programs(boolean openOnly) {
        return db.read(c -> ProgramRepository.all(c, openOnly));
    }

    public Program program(String id) {
        Program program = db.read(c -> ProgramRepository.find(c, id));
        if (program == null) {
            throw RefusedException.notFound("Unknown programme", "no programme " + id);
        }
        return program;
    }

    /** The parameters a user may set when enrolling: those of the release the programme's channel offers. */
    public List<TemplateParameter> parameters(Program program) {
        return db.read(c -> {
            String head = ReleaseRepository.channelHead(c, program.product(), program.channel());
            Release release = head == null ? null : ReleaseRepository.find(c, program.product(), head, false);
            return release == null ? List.<TemplateParameter>of() : release.parameters();
        });
    }

    /** Enrols a user: checks what they gave, records the enrolment and returns its token (shown once). */
    public EnrolmentTicket enrol(
            String programId, String name, String email, String invitationCode, Map<String, String> parameters) {
        Program program = program(programId);
        if (name == null || name.isBlank() || name.length() > 200) {
            throw RefusedException.badRequest("Bad enrolment", "give your name (1-200 characters)");
        }
        if (email == null
                || email.length() > 254
                || !EMAIL.matcher(email.strip()).matches()) {
            throw RefusedException.badRequest("Bad enrolment", "give an email address such as ada@example.com");
        }
        if (!program.open()
                && (invitationCode == null
                        || !Tokens.sha256(invitationCode.strip()).equals(program.invitationSha256()))) {
            throw RefusedException.badRequest(
                    "Bad invitation code", "this programme needs the invitation code you were sent");
        }
        Map<String, String> chosen = new LinkedHashMap<>();
        for (TemplateParameter parameter : parameters(program)) {
            String value = parameters.get(parameter.name());
            if (value == null || value.isBlank()) {
                continue;
            }
            String problem = parameter.valueProblem(value.strip());
            if (problem != null) {
                throw RefusedException.badRequest("Bad " + parameter.name(), problem);
            }
            chosen.put(parameter.name(), value.strip());
        }
        Instant now = clock.instant();
        return db.transaction(c -> {
            MetadataRepository.Stored root = MetadataRepository.latest(c, Role.ROOT.name(), RepositoryService.ROOT);
            EnrolmentToken token = EnrolmentToken.issue(root.version(), root.sha256());
            Enrolment enrolment = new Enrolment(
                    UUID.randomUUID(),
                    program.id(),
                    name.strip(),
                    email.strip(),
                    Map.copyOf(chosen),
                    root.version(),
                    now.plus(tokenTtl),
                    null,
                    null,
                    now);
            EnrolmentRepository.insert(c, enrolment, Tokens.sha256(token.secret()));
            metrics.counter("vigil.dispatch.enrolments", "outcome", "created").increment();
            LOG.infof("enrolment %s in %s created", enrolment.id(), program.id());
            return new EnrolmentTicket(program, enrolment, token.toString());
        });
    }

    /**
     * An enrolled host's record key of the current epoch (ADR 0007): what it seals its records with, asked for again
     * with each lease renewal, so a rotation reaches every host within half a lease.
     */
    public RecordSeals.HostKey recordKey(String hostId) {
        return recordKeys.issue(tenant, hostId);
    }

    /** An agent redeems a token: once, before it expires. */
    public Redemption redeem(String tokenText, String hostId, String agentVersion) {
        EnrolmentToken token = EnrolmentToken.parse(tokenText);
        if (token == null) {
            throw refused(
                    "malformed",
                    RefusedException.badRequest(
                            "Malformed enrolment token",
                            "an enrolment token looks like ve1.<43 characters>.<root version>.<32 hex digits>: copy it whole"));
        }
        String problem = Names.hostProblem(hostId);
        if (problem != null) {
            throw RefusedException.badRequest("Bad host id", problem);
        }
        String hostToken = Tokens.generate("vgh_");
        RecordSeals.HostKey recordKey = recordKeys.issue(tenant, hostId);
        Instant now = clock.instant();
        Redemption redemption = db.transaction(c -> {
            String tokenSha256 = Tokens.sha256(token.secret());
            Enrolment enrolment = EnrolmentRepository.redeem(c, tokenSha256, hostId);
            if (enrolment == null) {
                throw whyNot(EnrolmentRepository.byToken(c, tokenSha256));
            }
            MetadataRepository.Stored pinned =
                    MetadataRepository.version(c, Role.ROOT.name(), RepositoryService.ROOT, enrolment.rootVersion());
            if (token.rootVersion() != enrolment.rootVersion()
                    || !pinned.sha256().startsWith(token.rootSha256Prefix())) {
                // Refused inside the transaction, so a copy whose root the agent could not pin does not use it up.
                throw refused(
                        "malformed",
                        RefusedException.badRequest(
                                "Malformed enrolment token",
                                "the token's root part is not the one it was issued with: copy it whole"));
            }
            if (HostRepository.revocation(c, hostId) != null) {
                throw RefusedException.conflict(
                        "Host revoked", "host " + hostId + " was revoked by the vendor and cannot enrol again");
            }
            Program program = ProgramRepository.find(c, enrolment.program());
            Host host = new Host(hostId, enrolment.id(), program.product(), program.channel(), agentVersion, now, now);
            HostRepository.enrol(c, host, Tokens.sha256(hostToken));
            LicenseRecord license = licenses.issue(
                    c,
                    program.product(),
                    hostId,
                    enrolment.id(),
                    program.features(),
                    Duration.ofDays(program.licenseDays()),
                    "enrolment " + enrolment.id());
            List<byte[]> roots = new ArrayList<>();
            MetadataRepository.Stored latest = MetadataRepository.latest(c, Role.ROOT.name(), RepositoryService.ROOT);
            for (long v = token.rootVersion(); v <= latest.version(); v++) {
                roots.add(MetadataRepository.version(c, Role.ROOT.name(), RepositoryService.ROOT, v)
                        .body());
            }
            return new Redemption(
                    hostId,
                    hostToken,
                    program.product(),
                    program.channel(),
                    cohorts.releaseFor(c, host),
                    roots,
                    license.document(),
                    enrolment.parameters(),
                    recordKey);
        });
        metrics.counter("vigil.dispatch.enrolments", "outcome", "redeemed").increment();
        LOG.infof("host %s enrolled in %s %s", hostId, redemption.product(), redemption.channel());
        return redemption;
    }

    /** The enrolment a host redeemed, for its parameters; null for a host that enrolled otherwise. */
    Enrolment enrolmentOf(Connection c, Host host) throws SQLException {
        return host.enrolmentId() == null ? null : EnrolmentRepository.find(c, host.enrolmentId());
    }

    private RefusedException whyNot(Enrolment enrolment) {
        if (enrolment == null) {
            return refused(
                    "unknown",
                    new RefusedException(
                            RefusedException.Why.NOT_FOUND,
                            "Unknown enrolment token",
                            "no enrolment has this token: enrol again on the programme's page"));
        }
        if (enrolment.redeemedAt() != null) {
            return refused(
                    "replayed",
                    RefusedException.conflict(
                            "Enrolment token already used",
                            "this token was redeemed at " + enrolment.redeemedAt()
                                    + "; each token enrols one machine: enrol" + " again for another"));
        }
        return refused(
                "expired",
                new RefusedException(
                        RefusedException.Why.GONE,
                        "Enrolment token expired",
                        "this token expired at " + enrolment.tokenExpiresAt() + ": enrol again for a new one"));
    }

    private RefusedException refused(String outcome, RefusedException e) {
        metrics.counter("vigil.dispatch.enrolments", "outcome", outcome).increment();
        return e;
    }
}
