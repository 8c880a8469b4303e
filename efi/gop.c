/*
 * GOP discovery and mode choice (see gop.h).
 *
 * The protocol on ST->ConsoleOutHandle is the one driving the screen the
 * firmware console is on, so it is preferred over whatever LocateProtocol
 * finds first (a machine may have several display adapters). A mode change
 * is only attempted when the current mode cannot be used (PixelBltOnly):
 * the firmware already chose the panel's native mode, and switching costs
 * a visible flash and sometimes a monitor resync.
 */
#include "gop.h"

#include <efi.h>
#include <efilib.h>

#define GOP_MAX_WIDTH  1920
#define GOP_MAX_HEIGHT 1080

static int gop_linear(const EFI_GRAPHICS_OUTPUT_MODE_INFORMATION *info)
{
	return info->PixelFormat == PixelRedGreenBlueReserved8BitPerColor ||
	       info->PixelFormat == PixelBlueGreenRedReserved8BitPerColor ||
	       info->PixelFormat == PixelBitMask;
}

/*
 * A linear mode to switch to: the current resolution if some mode offers it
 * linearly, else the largest linear mode that fits 1920x1080. Returns the
 * mode number, or -1 when there is none.
 */
static INT64 gop_pick_mode(EFI_GRAPHICS_OUTPUT_PROTOCOL *gop)
{
	UINT32 cur_w = gop->Mode->Info->HorizontalResolution;
	UINT32 cur_h = gop->Mode->Info->VerticalResolution;
	UINT64 best_area = 0;
	INT64 best = -1;

	for (UINT32 m = 0; m < gop->Mode->MaxMode; m++) {
		EFI_GRAPHICS_OUTPUT_MODE_INFORMATION *info = NULL;
		UINTN size = 0;
		UINT32 w, h;
		int linear;

		if (EFI_ERROR(gop->QueryMode(gop, m, &size, &info)) || !info)
			continue;
		w = info->HorizontalResolution;
		h = info->VerticalResolution;
		linear = gop_linear(info);
		FreePool(info);
		if (!linear)
			continue;
		if (w == cur_w && h == cur_h)
			return m;
		if (w <= GOP_MAX_WIDTH && h <= GOP_MAX_HEIGHT && (UINT64)w * h > best_area) {
			best_area = (UINT64)w * h;
			best = m;
		}
	}
	return best;
}

static void gop_describe(EFI_GRAPHICS_OUTPUT_PROTOCOL *gop, struct solo_framebuffer *fb)
{
	const EFI_GRAPHICS_OUTPUT_MODE_INFORMATION *info = gop->Mode->Info;
	UINT64 need;

	fb->base = gop->Mode->FrameBufferBase;
	fb->width = info->HorizontalResolution;
	fb->height = info->VerticalResolution;
	/* Every linear GOP format we accept is 32 bits per pixel. */
	fb->pitch = info->PixelsPerScanLine * 4;
	/* Some firmware reports a FrameBufferSize smaller than the visible area. */
	need = (UINT64)fb->pitch * fb->height;
	fb->size = gop->Mode->FrameBufferSize > need ? gop->Mode->FrameBufferSize : need;

	switch (info->PixelFormat) {
	case PixelRedGreenBlueReserved8BitPerColor:
		fb->format = SOLO_FB_RGBX;
		fb->red_mask = 0x000000ff;
		fb->green_mask = 0x0000ff00;
		fb->blue_mask = 0x00ff0000;
		fb->reserved_mask = 0xff000000;
		break;
	case PixelBlueGreenRedReserved8BitPerColor:
		fb->format = SOLO_FB_BGRX;
		fb->red_mask = 0x00ff0000;
		fb->green_mask = 0x0000ff00;
		fb->blue_mask = 0x000000ff;
		fb->reserved_mask = 0xff000000;
		break;
	default:
		fb->format = SOLO_FB_BITMASK;
		fb->red_mask = info->PixelInformation.RedMask;
		fb->green_mask = info->PixelInformation.GreenMask;
		fb->blue_mask = info->PixelInformation.BlueMask;
		fb->reserved_mask = info->PixelInformation.ReservedMask;
		break;
	}
}

void gop_setup(struct solo_framebuffer *fb)
{
	EFI_GRAPHICS_OUTPUT_PROTOCOL *gop = NULL;
	EFI_STATUS status;
	INT64 mode;

	fb->format = SOLO_FB_NONE;
	status = BS->HandleProtocol(ST->ConsoleOutHandle, &gEfiGraphicsOutputProtocolGuid,
				    (void **)&gop);
	if (EFI_ERROR(status) || !gop)
		status = BS->LocateProtocol(&gEfiGraphicsOutputProtocolGuid, NULL, (void **)&gop);
	if (EFI_ERROR(status) || !gop) {
		Print(L"solo: no graphics output (GOP): %r; the screen console is off\n",
		      EFI_ERROR(status) ? status : EFI_NOT_FOUND);
		return;
	}
	if (!gop->Mode || !gop->Mode->Info) {
		Print(L"solo: the GOP has no current mode; the screen console is off\n");
		return;
	}

	if (!gop_linear(gop->Mode->Info)) {
		mode = gop_pick_mode(gop);
		if (mode < 0) {
			Print(L"solo: the GOP has no mode with a linear framebuffer; "
			      L"the screen console is off\n");
			return;
		}
		status = gop->SetMode(gop, (UINT32)mode);
		if (EFI_ERROR(status) || !gop->Mode->Info || !gop_linear(gop->Mode->Info)) {
			Print(L"solo: cannot switch the GOP to linear mode %ld: %r; "
			      L"the screen console is off\n",
			      mode, status);
			return;
		}
	}
	if (gop->Mode->FrameBufferBase == 0) {
		Print(L"solo: the GOP reports no framebuffer address; the screen console is off\n");
		return;
	}
	gop_describe(gop, fb);
}
