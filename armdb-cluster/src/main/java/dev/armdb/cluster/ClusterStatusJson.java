package dev.armdb.cluster;

import java.util.List;
import java.util.Locale;

/**
 * The JSON form of a {@link ClusterStatus} ({@code bin/armdb cluster status --json}), format {@value #FORMAT}: every
 * object always has every one of its fields, in a fixed order, with {@code null} where a value is unknown, so that
 * scripts can rely on the shape. Fields are documented in docs/cluster.md and pinned by a golden test; a change that
 * removes or renames a field, or changes its meaning, bumps {@link #FORMAT}. Objects are indented by two spaces per
 * level, arrays of numbers and strings are on one line.
 *
 * <p>Stateless.
 */
public final class ClusterStatusJson {
    /** Format version, the output's first field. */
    public static final int FORMAT = 1;

    private ClusterStatusJson() {}

    /** The JSON text of {@code status}, ending with a newline. */
    public static String render(ClusterStatus status) {
        StringBuilder sb = new StringBuilder();
        sb.append("{\n");
        field(sb, 1, "format", Integer.toString(FORMAT), false);
        field(sb, 1, "connect", string(status.connect()), false);
        field(sb, 1, "readAtMillis", Long.toString(status.readAtMillis()), false);
        field(sb, 1, "controller", orNull(status.controller()), false);
        indent(sb, 1).append("\"groups\": [");
        List<ClusterStatus.Group> groups = status.groups();
        for (int i = 0; i < groups.size(); i++) {
            sb.append(i == 0 ? "\n" : ",\n");
            group(sb, groups.get(i));
        }
        if (!groups.isEmpty()) {
            sb.append('\n');
            indent(sb, 1);
        }
        sb.append("]\n}\n");
        return sb.toString();
    }

    private static void group(StringBuilder sb, ClusterStatus.Group g) {
        GroupState s = g.state();
        indent(sb, 2).append("{\n");
        field(sb, 3, "group", string(g.name()), false);
        field(sb, 3, "hasState", Boolean.toString(s != null), false);
        field(sb, 3, "leader", s == null ? "null" : orNull(s.leader()), false);
        field(sb, 3, "term", s == null ? "null" : Long.toString(s.term()), false);
        field(sb, 3, "isr", s == null ? "null" : strings(s.isr()), false);
        field(sb, 3, "minInsync", s == null ? "null" : Integer.toString(s.minInsync()), false);
        field(sb, 3, "reason", s == null ? "null" : orNull(s.reason()), false);
        if (s == null || s.lastFailoverMillis() == 0) {
            field(sb, 3, "lastFailover", "null", false);
        } else {
            indent(sb, 3).append("\"lastFailover\": {\n");
            field(sb, 4, "atMillis", Long.toString(s.lastFailoverMillis()), false);
            field(sb, 4, "reason", orNull(s.lastFailoverReason()), true);
            indent(sb, 3).append("},\n");
        }
        indent(sb, 3).append("\"members\": [");
        List<ClusterStatus.Member> members = g.members();
        for (int i = 0; i < members.size(); i++) {
            sb.append(i == 0 ? "\n" : ",\n");
            member(sb, members.get(i));
        }
        if (!members.isEmpty()) {
            sb.append('\n');
            indent(sb, 3);
        }
        sb.append("]\n");
        indent(sb, 2).append('}');
    }

    private static void member(StringBuilder sb, ClusterStatus.Member m) {
        MemberInfo i = m.info();
        boolean p = i != null;
        indent(sb, 4).append("{\n");
        field(sb, 5, "nodeId", string(m.nodeId()), false);
        field(sb, 5, "present", Boolean.toString(p), false);
        field(sb, 5, "role", string(m.role().name().toLowerCase(Locale.ROOT)), false);
        field(sb, 5, "inIsr", Boolean.toString(m.inIsr()), false);
        field(sb, 5, "resp", p ? string(i.respAddress()) : "null", false);
        field(sb, 5, "replication", p ? orNull(i.replicationAddress()) : "null", false);
        field(sb, 5, "term", p ? Long.toString(i.term()) : "null", false);
        field(sb, 5, "epoch", p ? Long.toString(i.epoch()) : "null", false);
        field(sb, 5, "durability", p ? string(i.durability().name().toLowerCase(Locale.ROOT)) : "null", false);
        field(sb, 5, "replica", p ? Boolean.toString(i.replica()) : "null", false);
        field(sb, 5, "streaming", p ? Boolean.toString(i.streaming()) : "null", false);
        field(sb, 5, "following", p ? orNull(i.following()) : "null", false);
        field(sb, 5, "uncleanStart", p ? Boolean.toString(i.uncleanStart()) : "null", false);
        field(sb, 5, "appliedLsns", p ? longs(i.appliedLsns()) : "null", false);
        field(sb, 5, "lagLsns", m.lagLsns() == null ? "null" : longs(m.lagLsns()), false);
        field(sb, 5, "lag", m.lagLsns() == null ? "null" : Long.toString(m.lagSum()), true);
        indent(sb, 4).append('}');
    }

    private static void field(StringBuilder sb, int level, String name, String json, boolean last) {
        indent(sb, level).append('"').append(name).append("\": ").append(json).append(last ? "\n" : ",\n");
    }

    private static StringBuilder indent(StringBuilder sb, int level) {
        return sb.append("  ".repeat(level));
    }

    private static String orNull(String s) {
        return s.isEmpty() ? "null" : string(s);
    }

    private static String strings(List<String> list) {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < list.size(); i++) {
            sb.append(i == 0 ? "" : ", ").append(string(list.get(i)));
        }
        return sb.append(']').toString();
    }

    private static String longs(long[] values) {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < values.length; i++) {
            sb.append(i == 0 ? "" : ", ").append(values[i]);
        }
        return sb.append(']').toString();
    }

    /** A JSON string literal: quotes, backslashes and control characters escaped. */
    static String string(String s) {
        StringBuilder sb = new StringBuilder(s.length() + 2).append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                default -> {
                    if (c < 0x20) {
                        sb.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
                }
            }
        }
        return sb.append('"').toString();
    }
}
