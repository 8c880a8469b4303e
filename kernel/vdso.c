/* The vDSO (see vdso.h). Until the vDSO image is built, the app gets none. */
#include "kernel/vdso.h"

int vdso_map(struct aspace *as, uint64_t *base)
{
	(void)as;
	*base = 0;
	return 0;
}

void vdso_update(void)
{
}
