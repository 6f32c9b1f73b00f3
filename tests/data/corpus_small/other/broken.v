// Missing expression: must be dropped by the syntax stage.
module broken (input a, output y);
    assign y = ;
endmodule
