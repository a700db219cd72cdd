package dev.vigil.dispatch.service;

import dev.vigil.dispatch.domain.Cohorts;
import dev.vigil.dispatch.domain.Host;
import dev.vigil.dispatch.domain.Rollout;
import dev.vigil.dispatch.persistence.ReleaseRepository;
import dev.vigil.dispatch.persistence.RolloutRepository;
import jakarta.enterprise.context.ApplicationScoped;
import java.sql.Connection;
import java.sql.SQLException;

/**
 * The release a host should run: the one its channel offers, or, while a rollout is in progress on the channel and
 * its stage includes the host, the release being rolled out. A host that enrols mid-rollout gets what its cohort has.
 */
@ApplicationScoped
public class RolloutCohorts {

    /** The release for the host, or null when its channel offers none yet. */
    public String releaseFor(Connection c, Host host) throws SQLException {
        Rollout rollout = RolloutRepository.inProgress(c, host.product(), host.channel());
        if (rollout != null && Cohorts.includes(rollout.id(), host.hostId(), rollout.percent())) {
            return rollout.release();
        }
        return ReleaseRepository.channelHead(c, host.product(), host.channel());
    }
}
