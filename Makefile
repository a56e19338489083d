# vmxvisor build. `make` builds the hypervisor image and host tools,
# `make run` boots it in Bochs, `make test` runs every test.

BUILD    := build
KERNEL   := $(BUILD)/vmxvisor.elf
VMXRUN   := $(BUILD)/host/vmxrun
SEED_PRELOAD := $(BUILD)/host/bochs_seed.so

# V=1 shows the full commands.
Q := $(if $(V),,@)

# Hypervisor sources: every C and assembly file of these folders.
KDIRS    := boot arch lib vmx mmu sched virt dev loader exits machine nested mon
KSRCS    := $(foreach d,$(KDIRS),$(wildcard $(d)/*.c) $(wildcard $(d)/*.S))
KOBJS    := $(patsubst %,$(BUILD)/k/%.o,$(KSRCS))

CC       ?= gcc
KCFLAGS  := -std=c11 -O2 -g -ffreestanding -fno-pic -fno-pie -fno-stack-protector \
            -fno-omit-frame-pointer -mno-red-zone -mgeneral-regs-only \
            -fno-asynchronous-unwind-tables -Wall -Wextra -Werror -I . -MMD -MP
# The hypervisor is optimised as one program (link-time optimisation): the
# exit paths cross files (the exit dispatch into nested/, the run loop into
# the exit handlers) and small functions there are inlined across them.
KLTO     := -flto=auto
KASFLAGS := -g -I . -MMD -MP -D__ASSEMBLY__
KLDFLAGS := -nostdlib -static -no-pie -z noexecstack -Wl,--build-id=none -z max-page-size=0x1000 -T boot/kernel.ld

# Freestanding test guests (guests/): each guests/NAME.c with the runtime.
GUESTS      := cpuid_test exit_bench mem_touch crasher msr_probe isolation_probe insn_probe spin_share migrate_check apic_timer smp_ipi spinlock legacy_irq platform_probe reboot_probe vmx_probe nmi_probe debug_probe chaos dirty_writer
GUEST_RT_COMMON := guests/runtime/start.S guests/runtime/entry.c guests/runtime/guest.c \
               guests/runtime/smp.c lib/printf.c lib/string.c arch/interrupts.c arch/isr.S \
               arch/lapic.c arch/tsc.c arch/ap_trampoline.S arch/gdt.c
GUEST_RT    := $(GUEST_RT_COMMON) guests/runtime/vm.c
# Guests also built to run on bare metal (GRUB's multiboot2, no hypervisor;
# tools/vmxrun --bare-multiboot) as build/guests/NAME_bare.elf, entered at
# bare_entry32 (guests/runtime/bare_start.S).
BARE_GUESTS := vmx_probe apic_timer
GUEST_BARE_RT := $(GUEST_RT_COMMON) guests/runtime/bare_start.S guests/runtime/bare.c arch/bootinfo.c
BARE_GUEST_ELFS := $(patsubst %,$(BUILD)/guests/%_bare.elf,$(BARE_GUESTS))
# A guest's own further sources: the VMX probe's L2 code and the
# hypervisor's VM-entry stub, which the probe, an L1 hypervisor, uses as is.
VMX_PROBE_SRCS := guests/vmx_probe_l2.S vmx/vmenter.S
$(BUILD)/guests/vmx_probe.elf $(BUILD)/guests/vmx_probe_bare.elf: GUEST_SRCS := $(VMX_PROBE_SRCS)
$(BUILD)/guests/vmx_probe.elf $(BUILD)/guests/vmx_probe_bare.elf: $(VMX_PROBE_SRCS) vmx/guest_regs.h
# Real-mode guests: 16-bit assembly, linked as ELF32 for a start = real VM.
REAL_GUESTS := realmode_test
GUEST_ELFS  := $(patsubst %,$(BUILD)/guests/%.elf,$(GUESTS) $(REAL_GUESTS))
# The multiboot (v1) test kernel: its own 32-bit runtime, linked as ELF32 at 1 MiB.
MB1_GUEST   := $(BUILD)/guests/mb1_test.elf
MB1_SRCS    := $(wildcard guests/mb1/*.c guests/mb1/*.S)
MB1_CFLAGS  := -m32 -std=c11 -O2 -g -ffreestanding -fno-pic -fno-pie -fno-stack-protector \
               -mgeneral-regs-only -fno-asynchronous-unwind-tables -Wall -Wextra -Werror -I .
GUEST_LDFLAGS := -nostdlib -static -no-pie -z noexecstack -Wl,--build-id=none,--no-warn-rwx-segments \
                 -z max-page-size=0x1000 -T guests/runtime/guest.ld

HOSTCFLAGS := -std=c11 -O2 -g -Wall -Wextra -Werror -I .

# Host unit tests (cmocka): pure logic compiled for the host. Each test
# lists the hypervisor sources it exercises.
UNIT_TESTS := linux_boot multiboot uart16550 smbios vmcs_config bitmap bootinfo vpid vmcs_fields ept vm_config elf_loader insn_emulate guest_walk sched_policy vlapic ple directed_yield spin_guard acpi fw_cfg rtc acpi_pm pic ioapic pit vmcs12 vmx_caps vmx_operand nested_merge nested_entry_checks nested_reflect ept12 ept02 multiboot2 mem_reserve shadow_fields shadow_promote vmcs12_cache cpuid_answers l1_host_image
test_vmcs_config_SRCS := vmx/vmcs_config.c vmx/vmx_controls.c lib/error.c
test_bitmap_SRCS := lib/bitmap.c
test_bootinfo_SRCS := arch/bootinfo.c
test_vpid_SRCS := vmx/vpid.c lib/bitmap.c
test_vmcs_fields_SRCS := vmx/vmcs_fields.c
test_ept_SRCS := mmu/ept.c
test_vm_config_SRCS := virt/vm_config.c
test_elf_loader_SRCS := loader/elf_loader.c loader/load_area.c loader/guest_memmap.c lib/error.c
test_uart16550_SRCS := dev/uart16550.c dev/serial_line.c
test_smbios_SRCS := loader/smbios.c
test_linux_boot_SRCS := loader/linux_boot.c loader/guest_memmap.c lib/error.c
test_multiboot_SRCS := loader/multiboot.c loader/multiboot_kernel.c loader/elf_loader.c loader/load_area.c loader/guest_memmap.c lib/error.c
test_insn_emulate_SRCS := exits/insn_emulate.c
test_guest_walk_SRCS := virt/guest_walk.c
test_sched_policy_SRCS := sched/sched_policy.c
test_vlapic_SRCS := dev/vlapic.c
test_ple_SRCS := vmx/ple.c
test_directed_yield_SRCS := sched/directed_yield.c
test_spin_guard_SRCS := sched/spin_guard.c
test_pic_SRCS := dev/pic.c
test_ioapic_SRCS := dev/ioapic.c dev/vlapic.c
test_pit_SRCS := dev/pit.c
test_acpi_SRCS := loader/acpi.c
test_fw_cfg_SRCS := dev/fw_cfg.c
test_rtc_SRCS := dev/rtc.c
test_acpi_pm_SRCS := dev/acpi_pm.c dev/vclock.c
test_vmcs12_SRCS := nested/vmcs12.c vmx/vmcs_fields.c
test_vmx_caps_SRCS := nested/vmx_caps.c nested/vmcs12.c vmx/vmcs_fields.c vmx/vmcs_config.c \
                      vmx/vmx_controls.c lib/error.c
test_vmx_operand_SRCS := nested/vmx_operand.c
test_nested_merge_SRCS := nested/merge.c lib/bitmap.c
test_nested_entry_checks_SRCS := nested/entry_checks.c nested/vmcs12.c vmx/vmcs_fields.c
test_nested_reflect_SRCS := nested/reflect.c nested/merge.c nested/vmcs12.c vmx/vmcs_fields.c lib/bitmap.c
test_ept12_SRCS := nested/ept12.c
test_ept02_SRCS := nested/ept02.c mmu/ept.c
test_mem_reserve_SRCS := virt/mem_reserve.c
test_shadow_fields_SRCS := nested/shadow_fields.c nested/vmcs12.c vmx/vmcs_fields.c lib/bitmap.c
test_shadow_promote_SRCS := nested/shadow_promote.c nested/vmcs12.c vmx/vmcs_fields.c
test_vmcs12_cache_SRCS := nested/vmcs12_cache.c nested/vmcs12.c vmx/vmcs_fields.c
test_l1_host_image_SRCS := nested/l1_host_image.c nested/vmcs12.c vmx/vmcs_fields.c
test_multiboot2_SRCS := loader/multiboot2.c loader/multiboot_kernel.c loader/elf_loader.c loader/load_area.c loader/guest_memmap.c lib/error.c
UNIT_BINS := $(patsubst %,$(BUILD)/unit/test_%,$(UNIT_TESTS))
# The host programs (unit tests, fuzz harnesses) compile and link their
# sources in one step, with no dependency files: they are rebuilt when any
# header of the tree changes, so that a test never runs on code older than
# the headers it inlines (vmcs12.h, nested.h and the like).
HOST_HEADERS := $(wildcard */*.h)

# System tests (TAP, run by prove) boot the image in Bochs; two at a time.
SYSTEM_JOBS ?= 2

.PHONY: all kernel guests linux-guest run run-kvm run-monitor run-qemu test unit-test system-test layer-check bench fuzz fuzz-check fuzz-nested chaos clean deps help

help:
	@echo "make run          boot the hypervisor in Bochs with a Linux guest; its shell on this terminal"
	@echo "make run-kvm      the same Linux as a KVM host (nested VMX): kvm_client or QEMU at its shell"
	@echo "make run-monitor  the hypervisor alone: its monitor on this terminal"
	@echo "make run-qemu     build build/vmxvisor-qemu.iso for QEMU/KVM or a VT-x machine"
	@echo "make test         everything CI runs: layer-check unit-test fuzz-check system-test"
	@echo "make unit-test    host unit tests (cmocka); make system-test: boots in Bochs (prove)"
	@echo "make bench        benchmarks (BENCH=name for one); BENCH lines and build/bench/results.json"
	@echo "make fuzz         libFuzzer harnesses for FUZZ_SECONDS each; make fuzz-nested, make chaos"
	@echo "make all          hypervisor, test guests, launcher; make linux-guest: the Linux guest"
	@echo "make layer-check  includes point down the layers; make clean"
	@echo "Run your own kernel: tools/vmxrun --vm-kernel FILE [--vm-initrd F] [--vm-append 'ARGS']"
	@echo "Docs: README.md, docs/launcher.md"


all: kernel guests $(VMXRUN) $(SEED_PRELOAD)

# The Linux guest: Debian's stock kernel and a busybox initramfs, made from
# Debian packages by tools/linux-guest (downloaded once, kept in build/linux);
# all of them hold lockbench (lock workloads for the PLE benchmarks); its
# KVM host variant adds the KVM modules and kvm_client, a static program of
# ours that runs a VM through the KVM API, and its QEMU variant QEMU with
# the multiboot test kernel as its guest.
LINUX_GUEST := $(BUILD)/linux/vmlinuz $(BUILD)/linux/initramfs.cpio.gz \
               $(BUILD)/linux/initramfs-kvm.cpio.gz $(BUILD)/linux/initramfs-qemu.cpio.gz
linux-guest: $(LINUX_GUEST)
$(LINUX_GUEST) &: tools/linux-guest guests/linux/init $(BUILD)/linux/kvm_client \
                  $(BUILD)/linux/lockbench $(MB1_GUEST)
	@echo "  LINUX   $(BUILD)/linux"
	$(Q)MB1_TEST=$(MB1_GUEST) tools/linux-guest $(BUILD)/linux
$(BUILD)/linux/kvm_client: guests/linux/kvm_client.c
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	$(Q)$(CC) -std=gnu11 -static -O2 -Wall -Wextra -Werror -o $@ $<
$(BUILD)/linux/lockbench: guests/linux/lockbench.c
	@mkdir -p $(dir $@)
	@echo "  CC      $@"
	$(Q)$(CC) -std=gnu11 -static -O2 -Wall -Wextra -Werror -pthread -o $@ $<

guests: $(GUEST_ELFS) $(BARE_GUEST_ELFS) $(MB1_GUEST)

$(BUILD)/guests/%.elf: guests/%.c $(GUEST_RT) guests/runtime/guest.h guests/runtime/guest.ld virt/guest_layout.h
	@mkdir -p $(dir $@)
	@echo "  GUEST   $@"
	$(Q)$(CC) $(filter-out -MMD -MP,$(KCFLAGS)) $(GUEST_LDFLAGS) -o $@ $< $(GUEST_SRCS) $(GUEST_RT) -lgcc

$(BARE_GUEST_ELFS): $(BUILD)/guests/%_bare.elf: guests/%.c $(GUEST_BARE_RT) guests/runtime/guest.h guests/runtime/guest.ld virt/guest_layout.h
	@mkdir -p $(dir $@)
	@echo "  GUEST   $@"
	$(Q)$(CC) $(filter-out -MMD -MP,$(KCFLAGS)) $(GUEST_LDFLAGS) -Wl,-e,bare_entry32 -o $@ $< \
	    $(GUEST_SRCS) $(GUEST_BARE_RT) -lgcc

$(patsubst %,$(BUILD)/guests/%.elf,$(REAL_GUESTS)): $(BUILD)/guests/%.elf: guests/%.S
	@mkdir -p $(dir $@)
	@echo "  GUEST   $@"
	$(Q)$(CC) -m32 -nostdlib -static -no-pie -Wl,--build-id=none,-Ttext=0x20000,-z,noexecstack \
	    -o $@ $<

$(MB1_GUEST): $(MB1_SRCS) guests/mb1/mb1.h guests/mb1/mb1.ld
	@mkdir -p $(dir $@)
	@echo "  GUEST   $@"
	$(Q)$(CC) $(MB1_CFLAGS) -nostdlib -static -no-pie -Wl,--build-id=none,--no-warn-rwx-segments -z noexecstack \
	    -z max-page-size=0x1000 -T guests/mb1/mb1.ld -o $@ $(MB1_SRCS)

kernel: $(KERNEL)

deps:
	@tools/install-deps

$(KERNEL): $(KOBJS) boot/kernel.ld
	@echo "  LD      $@"
	$(Q)$(CC) $(filter-out -MMD -MP,$(KCFLAGS)) $(KLTO) $(KLDFLAGS) -o $@ $(KOBJS) -lgcc

$(BUILD)/k/%.c.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	$(Q)$(CC) $(KCFLAGS) $(KLTO) -c $< -o $@

$(BUILD)/k/%.S.o: %.S
	@mkdir -p $(dir $@)
	@echo "  AS      $<"
	$(Q)$(CC) $(KASFLAGS) -c $< -o $@

$(VMXRUN): tools/vmxrun.c virt/vm_config.c virt/vm_config.h
	@mkdir -p $(dir $@)
	@echo "  HOSTCC  $@"
	$(Q)$(CC) $(HOSTCFLAGS) -D_DEFAULT_SOURCE -o $@ $< virt/vm_config.c

# Preloaded into Bochs by vmxrun: the seed of its random numbers (--seed).
$(SEED_PRELOAD): tools/bochs_seed.c
	@mkdir -p $(dir $@)
	@echo "  HOSTCC  $@"
	$(Q)$(CC) $(HOSTCFLAGS) -shared -fPIC -o $@ $< -ldl

.SECONDEXPANSION:
$(BUILD)/unit/test_%: tests/unit/test_%.c $$(test_%_SRCS) $(wildcard tests/unit/fixtures/*.h) $(HOST_HEADERS)
	@mkdir -p $(dir $@)
	@echo "  HOSTCC  $@"
	$(Q)$(CC) $(HOSTCFLAGS) -o $@ $< $(test_$*_SRCS) -lcmocka

# `make run` boots the Linux guest with its shell on the console (the
# monitor is Ctrl-A c away); `make run-monitor` boots with no VM.
run: deps all linux-guest
	tools/vmxrun --pcpus 2 --mem 512 --append console=linux --config guests/linux/vms.cfg \
	    $(BUILD)/linux/vmlinuz $(BUILD)/linux/initramfs.cpio.gz

# `make run-kvm`: the same Linux as a KVM host (its kvm_intel loaded, nested
# VMX on): run `kvm_client`, or QEMU with -enable-kvm, at its shell.
run-kvm: deps all linux-guest
	tools/vmxrun --pcpus 2 --mem 768 --append console=linux --config guests/linux/vms-kvm.cfg \
	    $(BUILD)/linux/vmlinuz $(BUILD)/linux/initramfs-qemu.cpio.gz

run-monitor: deps all
	tools/vmxrun

run-qemu: deps all
	tools/vmxrun --iso-only $(BUILD)/vmxvisor-qemu.iso --exit qemu
	@echo "boot it on a VT-x host: qemu-system-x86_64 -enable-kvm -cpu host,+vmx -smp 2 -m 512" \
	      "-cdrom $(BUILD)/vmxvisor-qemu.iso -serial stdio -display none" \
	      "-device isa-debug-exit,iobase=0xf4,iosize=0x04"

test: deps
	@$(MAKE) --no-print-directory layer-check unit-test fuzz-check system-test

# The folders are layers (README, "Layout"): no file includes or calls
# into a higher one.
layer-check: kernel
	@tools/check-layers $(BUILD)

# Each program's output is shown only when it fails; one total line at the end.
unit-test: $(UNIT_BINS)
	@total=0; failed=""; \
	for t in $(UNIT_BINS); do \
	    out=$$($$t 2>&1); rc=$$?; \
	    n=$$(printf '%s\n' "$$out" | awk '/^\[==========\] [0-9]+ test\(s\) run\./ { n += $$2 } END { print n + 0 }'); \
	    total=$$((total + n)); \
	    if [ $$rc -ne 0 ]; then printf '%s\n' "$$out"; failed="$$failed $${t##*/}"; fi; \
	done; \
	if [ -n "$$failed" ]; then echo "unit tests: FAILED:$$failed ($$total tests run)"; exit 1; fi; \
	echo "unit tests: $$total tests in $(words $(UNIT_BINS)) programs, all passed"

system-test: all linux-guest
	prove -j$(SYSTEM_JOBS) tests/system/

# Host fuzzing (fuzz/): clang's libFuzzer with AddressSanitizer and
# UndefinedBehaviorSanitizer, one harness per parser and device model that
# takes guest- or user-controlled input. `make fuzz` runs each for
# FUZZ_SECONDS (new inputs go to build/fuzz/corpus/NAME); `make fuzz-check`,
# part of `make test`, runs each for a few seconds from its corpus in
# fuzz/corpus/NAME.
FUZZ_CC      := clang
FUZZ_CFLAGS  := -std=c11 -g -O1 -I . -fsanitize=fuzzer,address,undefined \
                -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_SECONDS ?= 60
FUZZ_CHECK_SECONDS ?= 3
FUZZ_LOADER  := loader/load_area.c loader/guest_memmap.c lib/error.c
FUZZ_DEVICES := uart pic ioapic pit rtc acpi_pm fw_cfg vlapic
FUZZ_TARGETS := vm_config multiboot multiboot2 elf linux_boot bootinfo insn_emulate guest_walk \
                ept12 vmcs12_checks $(FUZZ_DEVICES)
fuzz_vm_config_SRCS     := virt/vm_config.c
fuzz_multiboot_SRCS     := loader/multiboot.c loader/multiboot_kernel.c loader/elf_loader.c $(FUZZ_LOADER)
fuzz_multiboot2_SRCS    := loader/multiboot2.c loader/multiboot_kernel.c loader/elf_loader.c $(FUZZ_LOADER)
fuzz_elf_SRCS           := loader/elf_loader.c $(FUZZ_LOADER)
fuzz_linux_boot_SRCS    := loader/linux_boot.c loader/guest_memmap.c lib/error.c
fuzz_bootinfo_SRCS      := arch/bootinfo.c
fuzz_insn_emulate_SRCS  := exits/insn_emulate.c
fuzz_guest_walk_SRCS    := virt/guest_walk.c
fuzz_ept12_SRCS         := nested/ept12.c
fuzz_vmcs12_checks_SRCS := nested/entry_checks.c nested/vmcs12.c nested/vmx_caps.c vmx/vmcs_fields.c \
                           vmx/vmcs_config.c vmx/vmx_controls.c lib/error.c
fuzz_uart_SRCS          := dev/uart16550.c dev/serial_line.c
fuzz_pic_SRCS           := dev/pic.c
fuzz_ioapic_SRCS        := dev/ioapic.c
fuzz_pit_SRCS           := dev/pit.c
fuzz_rtc_SRCS           := dev/rtc.c
fuzz_acpi_pm_SRCS       := dev/acpi_pm.c dev/vclock.c
fuzz_fw_cfg_SRCS        := dev/fw_cfg.c
fuzz_vlapic_SRCS        := dev/vlapic.c
FUZZ_BINS := $(patsubst %,$(BUILD)/fuzz/fuzz_%,$(FUZZ_TARGETS))

# The device models share one harness, the two Multiboot loaders another,
# each told which by a macro.
fuzz_main = $(if $(filter $(1),$(FUZZ_DEVICES)),fuzz/fuzz_devices.c -DFUZZ_DEVICE_$(shell echo $(1) | tr a-z A-Z)=1,$(if $(filter multiboot%,$(1)),fuzz/fuzz_multiboot_loaders.c -DFUZZ_MULTIBOOT2=$(if $(filter multiboot2,$(1)),1,0),fuzz/fuzz_$(1).c))
$(BUILD)/fuzz/fuzz_%: $$(fuzz_%_SRCS) $$(wildcard fuzz/*.c fuzz/*.h) $(HOST_HEADERS)
	@mkdir -p $(dir $@)
	@echo "  FUZZCC  $@"
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $(call fuzz_main,$*) $(fuzz_$*_SRCS)

fuzz: $(FUZZ_BINS)
	@set -e; for t in $(FUZZ_TARGETS); do \
	    mkdir -p $(BUILD)/fuzz/corpus/$$t fuzz/corpus/$$t; \
	    echo "fuzz: $$t for $(FUZZ_SECONDS) s"; \
	    $(BUILD)/fuzz/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -artifact_prefix=$(BUILD)/fuzz/ -print_final_stats=1 \
	        $(BUILD)/fuzz/corpus/$$t fuzz/corpus/$$t 2>&1 \
	        | grep -E '^#[0-9]+ +DONE|^stat::(number_of_executed_units|new_units_added)|ERROR|SUMMARY'; \
	done

fuzz-check: $(FUZZ_BINS)
	@set -e; for t in $(FUZZ_TARGETS); do \
	    mkdir -p $(BUILD)/fuzz/check/$$t; \
	    $(BUILD)/fuzz/fuzz_$$t -max_total_time=$(FUZZ_CHECK_SECONDS) -artifact_prefix=$(BUILD)/fuzz/check/ $(BUILD)/fuzz/check/$$t \
	        fuzz/corpus/$$t >$(BUILD)/fuzz/check/$$t.log 2>&1 \
	        || { tail -30 $(BUILD)/fuzz/check/$$t.log; echo "fuzz-check: $$t failed"; exit 1; }; \
	done; echo "fuzz-check: $(words $(FUZZ_TARGETS)) harnesses, $(FUZZ_CHECK_SECONDS) s each: ok"

# The chaos guest for longer (tests/chaos_run; tests/system/chaos.t runs a
# few short seeds): CHAOS_SEEDS x CHAOS_OPERATIONS, random code included,
# each seed at most CHAOS_SECONDS of emulated time.
CHAOS_SEEDS ?= 1 2 3 4 5 6 7 8
CHAOS_OPERATIONS ?= 20000
CHAOS_SECONDS ?= 20
chaos: all
	tests/chaos_run --seeds '$(CHAOS_SEEDS)' --operations $(CHAOS_OPERATIONS) --seconds $(CHAOS_SECONDS)

# The long differential vmcs12 fuzzing run: the VMX probe's fuzzer bare on
# Bochs against the same seeds under vmxvisor's nested VMX, case by case
# (tests/nested_fuzz_compare; tests/system/nested_fuzz.t runs a few).
FUZZ_NESTED_SEEDS ?= 1 2 3 4 5 6 7 8
FUZZ_NESTED_CASES ?= 300
fuzz-nested: all
	tests/nested_fuzz_compare --seeds '$(FUZZ_NESTED_SEEDS)' --cases $(FUZZ_NESTED_CASES)

# make bench [BENCH=name]: BENCH lines on stdout (see bench/run).
# The BENCH lines on stdout; build/bench/results.json and its plots
# (build/bench/*.png, bench/plot) beside them.
bench: deps all linux-guest
	@bench/run $(if $(SEEDS),--seeds $(SEEDS)) $(BENCH); status=$$?; bench/plot; exit $$status

-include $(KOBJS:.o=.d)

clean:
	rm -rf $(BUILD)
