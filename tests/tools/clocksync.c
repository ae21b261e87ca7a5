/* clocksync — TEST TOOL: prints "synced" or "unsynced", as seald's TSA sees
 * the kernel clock (adjtimex), so that tests know which answer to expect. */
#include <stdio.h>

#include "daemon/formats/tsa.h"

int
main(void)
{
	printf("%s\n", tsa_clock_synced() ? "synced" : "unsynced");
	return 0;
}
