`include "defs.vh"
module uses_macro (input [`WIDTH-1:0] a, output [`WIDTH-1:0] y);
    assign y = ~a;
endmodule
