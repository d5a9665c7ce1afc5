package dev.armdb.cluster;

/** Checks of node and group names, which are also znode names. Stateless. */
final class NodeIds {
    /** Longest node or group name. */
    static final int MAX_LENGTH = 64;

    private NodeIds() {}

    /**
     * Returns {@code name} if it is 1 to {@value #MAX_LENGTH} characters of {@code A-Z a-z 0-9 . _ -}, not "." or "..".
     *
     * @throws IllegalArgumentException naming {@code what} and the name given otherwise
     */
    static String check(String name, String what) {
        if (name == null || name.isEmpty() || name.length() > MAX_LENGTH || name.equals(".") || name.equals("..")) {
            throw new IllegalArgumentException(
                    what + " must be 1.." + MAX_LENGTH + " characters (not . or ..), got '" + name + "'");
        }
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            boolean ok = (c >= 'a' && c <= 'z')
                    || (c >= 'A' && c <= 'Z')
                    || (c >= '0' && c <= '9')
                    || c == '.'
                    || c == '_'
                    || c == '-';
            if (!ok) {
                throw new IllegalArgumentException(
                        what + " may hold only A-Z a-z 0-9 . _ -, got '" + name + "' (character " + i + ")");
            }
        }
        return name;
    }
}
