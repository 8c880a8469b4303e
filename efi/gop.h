/*
 * The GOP framebuffer for the kernel's screen console. Boot services only.
 */
#pragma once

#include <solo/bootinfo.h>

/*
 * gop_setup - find the Graphics Output Protocol, make sure its mode has a
 * linear framebuffer (switching mode if the current one is blit-only) and
 * describe it in *fb. Leaves fb->format = SOLO_FB_NONE when there is no
 * usable framebuffer; that is not an error (serial-only machines).
 */
void gop_setup(struct solo_framebuffer *fb);
