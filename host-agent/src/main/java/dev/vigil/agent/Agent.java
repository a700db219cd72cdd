package dev.vigil.agent;

import dev.vigil.agent.config.AgentConfig;
import dev.vigil.agent.hypervisor.DomainLifecycleChange;
import dev.vigil.agent.hypervisor.DomainWatcher;
import dev.vigil.agent.hypervisor.LibvirtEventLoop;
import dev.vigil.agent.mapping.AgentEventMapper;
import dev.vigil.agent.publish.EventPublisher;
import dev.vigil.schemas.agent.AgentEvent;
import dev.vigil.schemas.agent.AgentStatusKind;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.libvirt.LibvirtException;

/**
 * The host agent: watches the hypervisor's domains and publishes their lifecycle, plus its own start, heartbeat
 * and stop, to {@code vigil.agent.events.v1}.
 */
public final class Agent implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(Agent.class.getName());
    private static final DomainLifecycleChange STOP = new DomainLifecycleChange("", "", "", "", null, false);

    private final AgentConfig config;
    private final AgentEventMapper mapper;
    private final EventPublisher publisher;
    private final BlockingQueue<DomainLifecycleChange> changes = new LinkedBlockingQueue<>();
    private final AtomicInteger domainsSeen = new AtomicInteger();
    private final ScheduledExecutorService heartbeat;
    private final Thread dispatcher;
    private LibvirtEventLoop eventLoop;
    private DomainWatcher watcher;

    public Agent(AgentConfig config) {
        this.config = config;
        this.mapper = new AgentEventMapper(config.hostId(), config.agentId(), version(), config.tenant());
        this.publisher = new EventPublisher(config.kafkaBootstrapServers(), config.agentId());
        this.heartbeat = Executors.newSingleThreadScheduledExecutor(r -> daemon(r, "vigil-agent-heartbeat"));
        this.dispatcher = daemon(this::dispatch, "vigil-agent-dispatch");
    }

    /** Connects to the hypervisor, reports the domains it finds, and starts publishing changes. */
    public void start() throws LibvirtException {
        eventLoop = LibvirtEventLoop.start();
        watcher = DomainWatcher.open(config.hypervisorUri(), changes);
        var discovered = watcher.discover();
        domainsSeen.set(discovered.size());
        publish(mapper.agentStatus(AgentStatusKind.STARTED, config.hypervisorUri(), discovered.size()));
        discovered.forEach(changes::offer);
        dispatcher.start();
        long period = config.heartbeatInterval().toMillis();
        heartbeat.scheduleAtFixedRate(
                () -> publish(mapper.agentStatus(AgentStatusKind.HEARTBEAT, config.hypervisorUri(), domainsSeen.get())),
                period,
                period,
                TimeUnit.MILLISECONDS);
        LOG.log(
                System.Logger.Level.INFO,
                "agent " + config.agentId() + " watching " + config.hypervisorUri() + " (domains: " + discovered.size()
                        + ") publishing to " + config.kafkaBootstrapServers());
    }

    public EventPublisher publisher() {
        return publisher;
    }

    /** Publishes what is queued, says it is stopping, and closes the connection, loop and producer. */
    @Override
    public void close() {
        heartbeat.shutdownNow();
        if (watcher != null) {
            watcher.close();
        }
        if (dispatcher.isAlive()) {
            changes.offer(STOP);
            try {
                dispatcher.join(10_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        publish(mapper.agentStatus(AgentStatusKind.STOPPING, config.hypervisorUri(), domainsSeen.get()));
        publisher.close();
        if (eventLoop != null) {
            eventLoop.close();
        }
        LOG.log(System.Logger.Level.INFO, "agent " + config.agentId() + " stopped");
    }

    private void dispatch() {
        while (true) {
            try {
                DomainLifecycleChange change = changes.take();
                if (change == STOP) {
                    return;
                }
                publish(mapper.lifecycle(change));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.ERROR, "could not publish a lifecycle change: " + e);
            }
        }
    }

    private void publish(AgentEvent event) {
        publisher.publish(mapper.key(event), event);
    }

    private static Thread daemon(Runnable body, String name) {
        Thread thread = new Thread(body, name);
        thread.setDaemon(true);
        return thread;
    }

    static String version() {
        String version = Agent.class.getPackage().getImplementationVersion();
        return version == null ? "dev" : version;
    }
}
