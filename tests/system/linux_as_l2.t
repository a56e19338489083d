#!/usr/bin/perl
# Debian's kernel as L2: tests/system/linux_boot.t with its VMs one level
# down, under vmxvisor as L1 (tests/system/lib/VmxRun.pm
# run_vms_in_vmxvisor): 2 vCPUs on 2 CPUs to its init, alone and next to a
# test guest, with linux_boot.t's own assertions. A file of its own, as it
# is the longest of the nested runs (two boots, about 3 minutes each).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;

$ENV{VMXVISOR_AS_L1} = 1;
do "$FindBin::Bin/linux_boot.t";
die $@ if $@;
