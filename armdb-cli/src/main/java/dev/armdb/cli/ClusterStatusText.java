package dev.armdb.cli;

import dev.armdb.cluster.ClusterStatus;
import dev.armdb.cluster.GroupState;
import dev.armdb.cluster.MemberInfo;
import java.time.Instant;
import java.util.Locale;

/**
 * The human form of a {@link ClusterStatus}: a line for the cluster, then per group a summary and a table of its
 * members (role, ISR, term, durability, RESP address, whom it follows, lag behind the leader). Stateless.
 */
final class ClusterStatusText {
    private static final String ROW = "  %-12s %-9s %-5s %-4s %6s %-10s %-21s %-12s %-9s %10s %14s%n";

    private ClusterStatusText() {}

    /** The text of {@code status}, ending with a newline. */
    static String render(ClusterStatus status) {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(
                Locale.ROOT,
                "cluster %s: controller %s, %d group%s (read %s)%n",
                status.connect(),
                status.controller().isEmpty() ? "none" : status.controller(),
                status.groups().size(),
                status.groups().size() == 1 ? "" : "s",
                Instant.ofEpochMilli(status.readAtMillis())));
        for (ClusterStatus.Group g : status.groups()) {
            sb.append('\n');
            group(sb, g, status.readAtMillis());
        }
        return sb.toString();
    }

    private static void group(StringBuilder sb, ClusterStatus.Group g, long now) {
        GroupState s = g.state();
        if (s == null) {
            sb.append(String.format(
                    "group %s: no state yet (the controller creates it once the members settle)%n", g.name()));
        } else {
            sb.append(String.format(
                    Locale.ROOT,
                    "group %s: leader %s, term %d, ISR %s, min in-sync %d%n",
                    g.name(),
                    s.leader().isEmpty() ? "none" : s.leader(),
                    s.term(),
                    s.isr(),
                    s.minInsync()));
            sb.append(
                    s.lastFailoverMillis() == 0
                            ? String.format("  last failover: none%n")
                            : String.format(
                                    Locale.ROOT,
                                    "  last failover: %s (%s ago): %s%n",
                                    Instant.ofEpochMilli(s.lastFailoverMillis()),
                                    ago(now - s.lastFailoverMillis()),
                                    s.lastFailoverReason().isEmpty()
                                            ? "(reason not recorded)"
                                            : s.lastFailoverReason()));
            sb.append(String.format("  last change: %s%n", s.reason()));
        }
        sb.append(String.format(
                Locale.ROOT,
                ROW,
                "node",
                "role",
                "up",
                "ISR",
                "term",
                "durability",
                "RESP",
                "following",
                "streaming",
                "lag",
                "max shard lag"));
        for (ClusterStatus.Member m : g.members()) {
            MemberInfo i = m.info();
            boolean p = i != null;
            sb.append(String.format(
                    Locale.ROOT,
                    ROW,
                    m.nodeId(),
                    m.role().name().toLowerCase(Locale.ROOT),
                    p ? "yes" : "gone",
                    m.inIsr() ? "yes" : "-",
                    p ? Long.toString(i.term()) : "-",
                    p ? i.durability().name().toLowerCase(Locale.ROOT) + (i.uncleanStart() ? "!" : "") : "-",
                    p ? i.respAddress() : "-",
                    p && !i.following().isEmpty() ? i.following() : "-",
                    p && i.replica() ? (i.streaming() ? "yes" : "no") : "-",
                    m.lagLsns() == null ? "?" : Long.toString(m.lagSum()),
                    maxShardLag(m)));
        }
        if (g.members().stream().anyMatch(m -> m.info() != null && m.info().uncleanStart())) {
            sb.append("  !: started after an unclean stop; not chosen by an automatic failover during this run\n");
        }
    }

    private static String maxShardLag(ClusterStatus.Member m) {
        long[] lag = m.lagLsns();
        if (lag == null) {
            return "?";
        }
        int worst = 0;
        for (int s = 1; s < lag.length; s++) {
            if (Math.abs(lag[s]) > Math.abs(lag[worst])) {
                worst = s;
            }
        }
        return lag[worst] + " (shard " + worst + ")";
    }

    private static String ago(long millis) {
        long s = Math.max(0, millis) / 1000;
        if (s < 120) {
            return s + " s";
        }
        if (s < 7_200) {
            return s / 60 + " min";
        }
        if (s < 172_800) {
            return s / 3600 + " h";
        }
        return s / 86_400 + " d";
    }
}
