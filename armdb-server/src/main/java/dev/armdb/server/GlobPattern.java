package dev.armdb.server;

/**
 * Redis's glob-style patterns (KEYS, SCAN MATCH) over raw bytes: {@code *} any run, {@code ?} one byte, {@code [abc]},
 * {@code [^a]}, {@code [a-z]} classes, and {@code \} to take the next byte literally. Stateless.
 */
final class GlobPattern {
    private GlobPattern() {}

    /** True if {@code s} matches {@code pattern}. */
    static boolean matches(byte[] pattern, byte[] s) {
        return match(pattern, 0, s, 0);
    }

    private static boolean match(byte[] p, int pi, byte[] s, int si) {
        while (pi < p.length) {
            byte c = p[pi];
            if (c == '*') {
                while (pi + 1 < p.length && p[pi + 1] == '*') {
                    pi++;
                }
                if (pi + 1 == p.length) {
                    return true;
                }
                for (int k = si; k <= s.length; k++) {
                    if (match(p, pi + 1, s, k)) {
                        return true;
                    }
                }
                return false;
            }
            if (si >= s.length) {
                return false;
            }
            if (c == '?') {
                pi++;
            } else if (c == '[') {
                int end = classEnd(p, pi);
                if (!inClass(p, pi + 1, end, s[si])) {
                    return false;
                }
                pi = end + 1;
            } else {
                if (c == '\\' && pi + 1 < p.length) {
                    pi++;
                }
                if (p[pi] != s[si]) {
                    return false;
                }
                pi++;
            }
            si++;
        }
        return si == s.length;
    }

    /** The index of the {@code ]} closing the class opened at {@code open}, or the pattern's last index. */
    private static int classEnd(byte[] p, int open) {
        int i = open + 1;
        while (i < p.length && p[i] != ']') {
            i += p[i] == '\\' && i + 1 < p.length ? 2 : 1;
        }
        return Math.min(i, p.length - 1);
    }

    private static boolean inClass(byte[] p, int from, int end, byte b) {
        boolean negate = from < end && p[from] == '^';
        int i = negate ? from + 1 : from;
        boolean hit = false;
        int v = b & 0xFF;
        while (i < end) {
            if (p[i] == '\\' && i + 1 < end) {
                hit |= (p[i + 1] & 0xFF) == v;
                i += 2;
            } else if (i + 2 < end && p[i + 1] == '-') {
                int lo = Math.min(p[i] & 0xFF, p[i + 2] & 0xFF);
                int hi = Math.max(p[i] & 0xFF, p[i + 2] & 0xFF);
                hit |= v >= lo && v <= hi;
                i += 3;
            } else {
                hit |= (p[i] & 0xFF) == v;
                i++;
            }
        }
        return hit != negate;
    }
}
