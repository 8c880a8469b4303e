/*
 * CMOS RTC (see rtc.h). Registers at index port 0x70, data port 0x71: 0x00
 * seconds, 0x02 minutes, 0x04 hours, 0x07 day, 0x08 month, 0x09 year (two
 * digits), 0x0a status A (bit 7: update in progress), 0x0b status B (bit 1:
 * 24-hour mode, bit 2: binary instead of BCD). In 12-hour mode bit 7 of the
 * hours is PM. Bit 7 of the index port also masks NMIs: Solo keeps it clear.
 *
 * The date conversion is pure C (host-tested); rtc_init is kernel-only.
 */
#include "drivers/rtc.h"

/*
 * Days from civil: shift the year to start in March, so the leap day is
 * the last day of the year; then a 400-year era has a fixed 146097 days, a
 * year in the era has 365 days plus its leap days (yoe/4 - yoe/100), and
 * the day of the March-based year follows from the month by the linear
 * formula (153 * m + 2) / 5, which gives the month lengths 31 30 31 30 31
 * 31 30 31 30 31 31 29/28 from March on. 719468 is 1970-03-01 minus
 * 0000-03-01 in days.
 */
int64_t rtc_days_from_civil(int64_t year, unsigned month, unsigned day)
{
	int64_t y = year - (month <= 2);
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;			     /* [0, 399] */
	int64_t mp = month > 2 ? month - 3 : month + 9;	     /* March = 0 */
	int64_t doy = (153 * mp + 2) / 5 + (int64_t)day - 1; /* [0, 365] */
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy; /* [0, 146096] */

	return era * 146097 + doe - 719468;
}

int64_t rtc_unix_seconds(int64_t year, unsigned month, unsigned day, unsigned hour, unsigned minute,
			 unsigned second)
{
	return rtc_days_from_civil(year, month, day) * 86400 + (int64_t)hour * 3600 +
	       (int64_t)minute * 60 + second;
}

#ifndef HOST_TEST
#include "kernel/arch/x86_64/portio.h"
#include "kernel/arch/x86_64/arch.h"

#define RTC_INDEX    0x70
#define RTC_DATA     0x71
#define RTC_STATUS_A 0x0a
#define RTC_STATUS_B 0x0b
#define RTC_UIP	     0x80 /* status A: update in progress */
#define RTC_24H	     0x02 /* status B */
#define RTC_BINARY   0x04 /* status B */
#define RTC_PM	     0x80 /* hours, 12-hour mode */

static uint64_t boot_seconds, boot_tsc;

static uint8_t cmos_read(uint8_t reg)
{
	outb(RTC_INDEX, reg);
	return inb(RTC_DATA);
}

struct rtc_fields {
	uint8_t sec, min, hour, day, mon, year;
};

static void read_fields(struct rtc_fields *f)
{
	/* An update takes under 2 ms once UIP is seen; bound the wait anyway. */
	for (unsigned i = 0; i < 1000000 && (cmos_read(RTC_STATUS_A) & RTC_UIP); i++)
		;
	f->sec = cmos_read(0x00);
	f->min = cmos_read(0x02);
	f->hour = cmos_read(0x04);
	f->day = cmos_read(0x07);
	f->mon = cmos_read(0x08);
	f->year = cmos_read(0x09);
}

static unsigned from_bcd(uint8_t v)
{
	return (v >> 4) * 10u + (v & 0x0f);
}

uint64_t rtc_init(void)
{
	struct rtc_fields a, b;

	/* Two equal reads in a row: no update slipped in between. */
	read_fields(&a);
	for (int tries = 0; tries < 5; tries++) {
		read_fields(&b);
		if (!__builtin_memcmp(&a, &b, sizeof(a)))
			break;
		a = b;
	}
	boot_tsc = arch_timestamp();

	uint8_t status_b = cmos_read(RTC_STATUS_B);
	int pm = (a.hour & RTC_PM) != 0;
	unsigned hour = a.hour & 0x7f;
	unsigned sec = a.sec, min = a.min, day = a.day, mon = a.mon, year = a.year;
	if (!(status_b & RTC_BINARY)) {
		sec = from_bcd(a.sec);
		min = from_bcd(a.min);
		hour = from_bcd((uint8_t)hour);
		day = from_bcd(a.day);
		mon = from_bcd(a.mon);
		year = from_bcd(a.year);
	}
	if (!(status_b & RTC_24H)) /* 12 AM is 0 h, 12 PM is 12 h */
		hour = (hour % 12) + (pm ? 12 : 0);
	if (sec > 59 || min > 59 || hour > 23 || day < 1 || day > 31 || mon < 1 || mon > 12 ||
	    year > 99)
		return boot_seconds = 0;
	boot_seconds = (uint64_t)rtc_unix_seconds(2000 + year, mon, day, hour, min, sec);
	return boot_seconds;
}

uint64_t rtc_boot_seconds(void)
{
	return boot_seconds;
}

uint64_t rtc_boot_tsc(void)
{
	return boot_tsc;
}
#endif
