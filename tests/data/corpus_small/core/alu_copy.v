// The same ALU, vendored a second time with a renamed output.
module alu_copy #(parameter W = 8) (
    input  [W-1:0] a,
    input  [W-1:0] b,
    input  [1:0]   op,
    output reg [W-1:0] y
);
    always @(*) begin
        case (op)
            2'd0: y = a + b;
            2'd1: y = a - b;
            2'd2: y = a & b;
            default: y = a | b;
        endcase
    end
endmodule
