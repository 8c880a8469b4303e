/* <string.h> for lwIP in the kernel: the kernel's own (kernel/klib.h). */
#pragma once
#include "kernel/klib.h"
