package dev.armdb.replication.leader;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Locale;

/**
 * Decides whether the leader address a follower says it dialed names this leader: the address the connection
 * arrived on, or one of the configured advertised addresses (names and addresses behind NAT or DNS). A follower's
 * proof covers the address it dialed, so a relay that forwards a follower's handshake to a leader it did not dial
 * is refused here. Host names are never resolved (a name's owner could point it anywhere): a name must be
 * advertised, except {@code localhost}, which matches a connection that arrived on a loopback address. Immutable
 * and thread-safe.
 */
final class PeerAddresses {
    private final List<String> advertised;

    /** {@code advertised}: {@code host:port} entries the leader answers on besides its sockets' own addresses. */
    PeerAddresses(List<String> advertised) {
        this.advertised =
                advertised.stream().map(a -> a.toLowerCase(Locale.ROOT)).toList();
    }

    /** True if {@code host:port} as the follower dialed it names the local end {@code local} of its connection. */
    boolean answersOn(InetSocketAddress local, String host, int port) {
        String h = host.toLowerCase(Locale.ROOT);
        if (h.startsWith("[") && h.endsWith("]")) {
            h = h.substring(1, h.length() - 1);
        }
        if (advertised.contains(h + ":" + port) || advertised.contains("[" + h + "]:" + port)) {
            return true;
        }
        for (String a : advertised) {
            if (sameAddress(a, h, port)) {
                return true;
            }
        }
        if (port != local.getPort()) {
            return false;
        }
        if (h.equals("localhost")) {
            return local.getAddress().isLoopbackAddress();
        }
        InetAddress literal = literal(h);
        return literal != null && literal.equals(local.getAddress());
    }

    /** True if advertised entry {@code a} and the dialed host are the same IP literal and port. */
    private static boolean sameAddress(String a, String host, int port) {
        int colon = a.lastIndexOf(':');
        if (colon <= 0 || !a.substring(colon + 1).equals(Integer.toString(port))) {
            return false;
        }
        String ah = a.substring(0, colon);
        if (ah.startsWith("[") && ah.endsWith("]")) {
            ah = ah.substring(1, ah.length() - 1);
        }
        InetAddress x = literal(ah);
        InetAddress y = literal(host);
        return x != null && x.equals(y);
    }

    /** The address {@code host} spells as an IP literal, or null for a name (never resolved). */
    static InetAddress literal(String host) {
        try {
            return InetAddress.ofLiteral(host);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }
}
