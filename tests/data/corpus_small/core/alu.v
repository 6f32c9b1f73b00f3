// Licensed under the Apache License, Version 2.0.

// A four-function ALU: add, subtract, and, or, selected by op.
module alu #(parameter W = 8) (
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

// A register with synchronous reset and enable.
module dreg (
    input clk,
    input rst,
    input en,
    input [7:0] d,
    output reg [7:0] q
);
    always @(posedge clk) begin
        if (rst) q <= 8'h00;
        else if (en) q <= d;
    end
endmodule
