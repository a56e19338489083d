# vmxvisor build. `make` builds the hypervisor image and host tools,
# `make run` boots it in Bochs, `make test` runs every test.

BUILD    := build
KERNEL   := $(BUILD)/vmxvisor.elf
ISO      := $(BUILD)/vmxvisor.iso
VMXRUN   := $(BUILD)/host/vmxrun

# Hypervisor sources: every C and assembly file of these folders.
KDIRS    := boot arch lib vmx mmu virt nested mon
KSRCS    := $(foreach d,$(KDIRS),$(wildcard $(d)/*.c) $(wildcard $(d)/*.S))
KOBJS    := $(patsubst %,$(BUILD)/k/%.o,$(KSRCS))

CC       ?= gcc
KCFLAGS  := -std=c11 -O2 -g -ffreestanding -fno-pic -fno-pie -fno-stack-protector \
            -fno-omit-frame-pointer -mno-red-zone -mgeneral-regs-only \
            -fno-asynchronous-unwind-tables -Wall -Wextra -Werror -I include -I . -MMD -MP
KASFLAGS := -g -I include -I . -MMD -MP -D__ASSEMBLY__
KLDFLAGS := -nostdlib -static -no-pie -z noexecstack -Wl,--build-id=none -z max-page-size=0x1000 -T boot/kernel.ld

HOSTCFLAGS := -std=c11 -O2 -g -Wall -Wextra -Werror -I include -I .

.PHONY: all kernel iso run test unit-test system-test bench clean deps run-qemu

all: kernel $(VMXRUN)

kernel: $(KERNEL)

deps:
	@tools/install-deps

$(KERNEL): $(KOBJS) boot/kernel.ld
	$(CC) $(KLDFLAGS) -o $@ $(KOBJS) -lgcc

$(BUILD)/k/%.c.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(KCFLAGS) -c $< -o $@

$(BUILD)/k/%.S.o: %.S
	@mkdir -p $(dir $@)
	$(CC) $(KASFLAGS) -c $< -o $@

$(VMXRUN): tools/vmxrun.c
	@mkdir -p $(dir $@)
	$(CC) $(HOSTCFLAGS) -D_DEFAULT_SOURCE -o $@ $<

-include $(KOBJS:.o=.d)

clean:
	rm -rf $(BUILD)
