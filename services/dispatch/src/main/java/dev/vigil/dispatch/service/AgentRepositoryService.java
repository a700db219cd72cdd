package dev.vigil.dispatch.service;

import dev.vigil.dispatch.domain.Host;
import dev.vigil.dispatch.domain.Names;
import dev.vigil.dispatch.domain.ReleaseState;
import dev.vigil.dispatch.persistence.ChunkRepository;
import dev.vigil.dispatch.persistence.Database;
import dev.vigil.dispatch.persistence.HostRepository;
import dev.vigil.dispatch.persistence.MetadataRepository.Stored;
import dev.vigil.dispatch.persistence.ReleaseRepository;
import dev.vigil.schemas.delivery.Role;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.time.Duration;

/** What an enrolled agent may read of the repository: everything of its product, nothing of others. */
@ApplicationScoped
public class AgentRepositoryService {

    private final Database db;
    private final RepositoryService repository;
    private final ChunkStore chunks;

    AgentRepositoryService(Database db, RepositoryService repository, ChunkStore chunks) {
        this.db = db;
        this.repository = repository;
        this.chunks = chunks;
    }

    public Host host(String hostId) {
        Host host = db.read(c -> HostRepository.find(c, hostId));
        if (host == null) {
            throw RefusedException.notFound("Unknown host", "host " + hostId + " is not enrolled");
        }
        return host;
    }

    /** Refuses a host reading another product than the one it enrolled in. */
    public void requireProduct(Host host, String product) {
        if (!host.product().equals(product)) {
            throw RefusedException.notFound(
                    "Unknown product", "host " + host.hostId() + " is not enrolled in " + product);
        }
    }

    public Stored latest(Role role, String name) {
        Stored document = repository.latest(role, name);
        if (document == null) {
            throw RefusedException.notFound("No metadata", "no " + role + " metadata yet");
        }
        return document;
    }

    public Stored version(Role role, String name, long version) {
        Stored document = repository.version(role, name, version);
        if (document == null) {
            throw RefusedException.notFound("No such metadata", role + " " + name + " has no version " + version);
        }
        return document;
    }

    /** A published release's manifest bytes. */
    public byte[] manifest(String product, String release) {
        var found = db.read(c -> ReleaseRepository.find(c, product, release, false));
        if (found == null || found.state() != ReleaseState.PUBLISHED) {
            throw RefusedException.notFound("Unknown release", product + " has no published release " + release);
        }
        return db.read(c -> ReleaseRepository.manifest(c, product, release));
    }

    /** A short-lived download link of a stored chunk. */
    public String chunkLink(String sha256, Duration ttl) {
        if (!Names.isSha256(sha256) || !db.read(c -> ChunkRepository.exists(c, sha256))) {
            throw RefusedException.notFound("Unknown chunk", "no chunk " + sha256);
        }
        try {
            return chunks.link(sha256, ttl);
        } catch (IOException e) {
            throw new RefusedException(RefusedException.Why.UNAVAILABLE, "Object store unavailable", e.getMessage());
        }
    }
}
