/* The app's lifecycle (see app.h). */
#include "kernel/app.h"

#include "kernel/args.h"
#include "kernel/errno.h"
#include "kernel/arch/x86_64/arch.h"
#include "kernel/klib.h"
#include "kernel/kprintf.h"
#include "kernel/loader.h"
#include "kernel/log.h"
#include "kernel/power.h"
#include "mm/kmalloc.h"

extern struct vm_ctx app_view_template;

static struct {
	struct app_image image;
	enum bootcfg_on_exit on_exit;
	int running;
} app;

const struct vm_ctx *app_context(void)
{
	return &app.image.ctx;
}

_Noreturn void app_exit(int status)
{
	kprintf("solo: exit %d\n", status & 0xff);
	if (app.running) {
		app.running = 0;
		arch_switch_address_space(kernel_ctx.root);
		vm_ctx_destroy_user(&app.image.ctx, 1);
	}
	power_finish(app.on_exit);
}

_Noreturn void app_kill(int signal, const char *reason, uint64_t rip, uint64_t addr)
{
	kprintf("solo: app killed: %s at rip=%#lx addr=%#lx\n", reason, rip, addr);
	app_exit(128 + signal);
}

/* argv = name, then the words of args; returns argc or a negative error. */
static int build_argv(const struct boot_config *cfg, const char ***argv_out)
{
	size_t len = strlen(cfg->args);
	size_t max_words = len / 2 + 2;
	const char **argv = kmalloc((max_words + 1) * sizeof(char *));
	char *words = kmalloc(len + 1);

	if (!argv || !words) {
		kfree(argv);
		kfree(words);
		return -1;
	}
	argv[0] = cfg->name;
	int n = args_split(cfg->args, words, len + 1, argv + 1, max_words);
	if (n < 0) {
		kprintf("solo: boot.cfg args: unbalanced quote or trailing backslash in \"%s\"\n",
			cfg->args);
		kfree(argv);
		kfree(words);
		return -1;
	}
	*argv_out = argv;
	return n + 1;
}

int app_load(const void *elf, size_t size, const struct boot_config *cfg)
{
	const char *why = "";
	const char **argv;
	int err;

	app.on_exit = cfg->on_exit;
	int argc = build_argv(cfg, &argv);
	if (argc < 0)
		return -EINVAL;
	err = loader_load(elf, size, &app_view_template, &app.image, &why);
	if (err) {
		kprintf("solo: app not started: %s\n", why);
		return err;
	}
	err = loader_build_stack(&app.image, argc, argv, (int)cfg->env_count, cfg->env);
	if (err) {
		kprintf("solo: app not started: %s\n",
			err == -E2BIG ? "arguments and environment too large" : "out of memory");
		vm_ctx_destroy_user(&app.image.ctx, 1);
		return err;
	}
	kinfo("solo: app %s: %d argument%s, %zu environment variable%s, entry %#lx\n", cfg->name,
	      argc - 1, argc == 2 ? "" : "s", cfg->env_count, cfg->env_count == 1 ? "" : "s",
	      app.image.entry);
	if (log_level >= LOG_DEBUG)
		vm_dump(&app.image.ctx, 0,
			UINT64_MAX); /* both halves: the kernel half holds only UL_VISIBLE pages */
	app.running = 1;
	return 0;
}

_Noreturn void app_enter(void)
{
	kinfo("solo: starting the app\n");
	arch_set_user_fs(0);
	arch_enter_user(app.image.entry, app.image.stack_pointer, app.image.ctx.root);
}
