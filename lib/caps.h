/*
 * caps — giving up Linux capabilities for good.
 *
 * Capabilities belong to a thread, not to a process: a thread created
 * before a drop keeps what it had. Call these before the process has
 * threads (the ones created after inherit the empty sets).
 */
#ifndef SB_CAPS_H
#define SB_CAPS_H

/*
 * Every capability out of the bounding set, so that none can come back by
 * an exec. Dropping needs CAP_SETPCAP: without it the set stays as it is
 * and *kept is 1 (no_new_privs then keeps an exec from gaining any). 0, or
 * -1 with errno for anything else.
 */
int caps_drop_bounding(int *kept);

/*
 * The bounding set as above, then the effective, permitted, inheritable and
 * ambient sets emptied, and checked empty. The process keeps its uid: root
 * still opens the files root owns, and nothing else. 0, or -1 with errno.
 */
int caps_drop_all(int *bounding_kept);

/* One capability out of every set (the bounding set where CAP_SETPCAP
 * allows). 0, or -1 with errno. */
int caps_drop_one(int cap);

#endif
