/*
 * The CMOS real-time clock (MC146818 and its successors): read once at boot
 * into Unix seconds, then the wall clock runs on the TSC (rtc_boot_seconds +
 * time since rtc_boot_tsc). The RTC holds no time zone: Solo takes it as UTC,
 * as QEMU's default (-rtc base=utc) and most firmware set it.
 *
 * The kernel's clocks (kernel/time.h) start from this reading.
 */
#pragma once

#include <stdint.h>

/*
 * rtc_init - read the RTC (ports 0x70/0x71):
 * waits for no update in progress, reads the fields twice until they agree,
 * decodes BCD or binary and 12 or 24 hour per status register B; the year
 * is 20xx. Once, at boot, interrupts off. Returns the Unix seconds read
 * (0 when the RTC gave nonsense: the wall clock then starts at 1970).
 */
uint64_t rtc_init(void);

/* Unix seconds at the rtc_init read, and the TSC then. */
uint64_t rtc_boot_seconds(void);
uint64_t rtc_boot_tsc(void);

/*
 * rtc_days_from_civil - days since 1970-01-01 of the proleptic Gregorian
 * date year-month-day (month 1..12, day 1..31); negative before 1970. Pure,
 * host-tested.
 */
int64_t rtc_days_from_civil(int64_t year, unsigned month, unsigned day);

/* rtc_unix_seconds - the UTC date and time as Unix seconds (pure). */
int64_t rtc_unix_seconds(int64_t year, unsigned month, unsigned day, unsigned hour, unsigned minute,
			 unsigned second);
