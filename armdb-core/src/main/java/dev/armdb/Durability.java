package dev.armdb;

/**
 * How far a mutation has travelled towards the disk when the call that made it returns.
 *
 * <table>
 *   <caption>What each mode survives</caption>
 *   <tr><th>mode</th><th>process crash (kill -9, JVM abort)</th><th>power loss / kernel crash</th></tr>
 *   <tr><td>{@link #NONE}</td><td>every returned mutation</td><td>no promise; recovery still yields a
 *       consistent state (every key holds a value it once had) except for slots the disk tore</td></tr>
 *   <tr><td>{@link #GROUP}</td><td>every returned mutation</td><td>every mutation older than the last
 *       background force (at most the group interval old)</td></tr>
 *   <tr><td>{@link #SYNC}</td><td>every returned mutation</td><td>every returned mutation</td></tr>
 * </table>
 */
public enum Durability {
    /** Mutations live in the page cache; the OS writes them back when it pleases. Fastest. */
    NONE,
    /** A background thread forces dirty pages every group interval; writers never wait for it. */
    GROUP,
    /** A mutation returns only after its slot is forced; concurrent writers of a shard share one force. */
    SYNC
}
