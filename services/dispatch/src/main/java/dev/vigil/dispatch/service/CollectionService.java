package dev.vigil.dispatch.service;

import dev.vigil.dispatch.config.DispatchConfig;
import dev.vigil.dispatch.domain.CollectionPolicies;
import dev.vigil.dispatch.domain.Command;
import dev.vigil.dispatch.persistence.CollectionRepository;
import dev.vigil.dispatch.persistence.Database;
import dev.vigil.schemas.agent.CommandAction;
import dev.vigil.schemas.crash.CollectionPolicyRequest;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.jboss.logging.Logger;

/**
 * Progressive collection, closed: crash triage's per-bucket requests become one {@code SET_COLLECTION_POLICY} command
 * per host whose combined policy changed ({@link CollectionPolicies}), with every {@code dump.<trigger>} entry (the
 * agent replaces its whole policy file). A request older than the bucket's newest is a redelivery and changes
 * nothing; a host whose policy is what it was last sent gets no command.
 */
@ApplicationScoped
public class CollectionService {

    private static final Logger LOG = Logger.getLogger(CollectionService.class);
    static final String REQUESTED_BY = "crash-triage";

    private final Database db;
    private final CommandService commands;
    private final MeterRegistry metrics;
    private final Duration ttl;

    CollectionService(Database db, CommandService commands, MeterRegistry metrics, DispatchConfig config) {
        this.db = db;
        this.commands = commands;
        this.metrics = metrics;
        this.ttl = config.dispatch().commands().collectionTtl();
    }

    /** Applies a bucket's request; returns the commands it made. */
    public List<Command> apply(String bucket, CollectionPolicyRequest request) {
        List<Command> issued = db.transaction(c -> {
            CollectionRepository.Stored previous = CollectionRepository.find(c, bucket);
            if (previous != null && previous.sequence() >= request.getSequence()) {
                return List.<Command>of();
            }
            Set<String> hosts = new LinkedHashSet<>(request.getHostIds());
            if (previous != null) {
                hosts.addAll(previous.hosts());
            }
            CollectionRepository.save(
                    c,
                    new CollectionRepository.Stored(
                            bucket,
                            request.getSequence(),
                            request.getDump().name().toLowerCase(Locale.ROOT),
                            List.copyOf(request.getTriggers()),
                            List.copyOf(request.getHostIds())));
            List<Command> made = new ArrayList<>();
            for (String host : hosts) {
                Map<String, String> policy = CollectionPolicies.combine(CollectionRepository.forHost(c, host));
                Map<String, String> sent = CollectionRepository.sent(c, host);
                if (policy.equals(sent) || (sent == null && policy.isEmpty())) {
                    continue;
                }
                List<Command> command = commands.issue(
                        c,
                        CommandAction.SET_COLLECTION_POLICY,
                        List.of(new CommandTarget(host, null, null)),
                        policy,
                        ttl,
                        Command.COLLECTION,
                        null,
                        REQUESTED_BY);
                CollectionRepository.sent(c, host, policy, command.get(0).id());
                made.addAll(command);
            }
            return made;
        });
        if (!issued.isEmpty()) {
            metrics.counter("vigil.dispatch.collection.commands").increment(issued.size());
            LOG.infof(
                    "bucket %s's collection request %d (%s) changed the policy of %d hosts",
                    bucket, request.getSequence(), request.getDump(), issued.size());
        }
        return issued;
    }
}
