"""``prefetch(arr, index)``: a cache hint for the compiled kernels of ``envs.core`` and ``envs.observation``.

The slabs those kernels read are far larger than the caches, so the cells an
alignment reads next are mostly misses; asking for them a few alignments ahead
lets many fetches overlap instead of waiting for one at a time. A hint changes
speed only, never a value.
"""

from llvmlite import ir
from llvmlite.binding import llvm_version_info
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

#: How many alignments (or queries) ahead the kernels prefetch the cells they will read.
PREFETCH_AHEAD = 16
# LLVM names the intrinsic by its pointer type: opaque pointers (LLVM >= 15) or i8*.
_PREFETCH_INTRINSIC = "llvm.prefetch.p0" if llvm_version_info[0] >= 15 else "llvm.prefetch.p0i8"


@intrinsic
def prefetch(typingctx, arr, index):
    """Hint the CPU to fetch ``arr[index]`` (1-D array) into the cache; no effect on results."""
    sig = types.void(arr, index)

    def codegen(context, builder, signature, args):
        arrty = signature.args[0]
        ary = context.make_array(arrty)(context, builder, args[0])
        ptr = cgutils.get_item_pointer(context, builder, arrty, ary, [args[1]], wraparound=False)
        ptr = builder.bitcast(ptr, ir.IntType(8).as_pointer())
        i32 = ir.IntType(32)
        fn = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(ir.VoidType(), [ptr.type, i32, i32, i32]), _PREFETCH_INTRINSIC
        )
        # read, highest temporal locality, data cache
        builder.call(fn, [ptr, ir.Constant(i32, 0), ir.Constant(i32, 3), ir.Constant(i32, 1)])
        return context.get_dummy_value()

    return sig, codegen
