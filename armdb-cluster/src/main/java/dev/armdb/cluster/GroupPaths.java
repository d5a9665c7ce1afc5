package dev.armdb.cluster;

/** The znodes of a cluster (below the connect string's chroot). Stateless. */
final class GroupPaths {
    /** Parent of every group. */
    static final String GROUPS = "/groups";
    /** The controller's leader latch. */
    static final String CONTROLLER = "/controller";

    private GroupPaths() {}

    static String group(String group) {
        return GROUPS + "/" + group;
    }

    static String state(String group) {
        return group(group) + "/state";
    }

    static String switchover(String group) {
        return group(group) + "/switchover";
    }

    static String members(String group) {
        return group(group) + "/members";
    }

    static String member(String group, String nodeId) {
        return members(group) + "/" + nodeId;
    }
}
